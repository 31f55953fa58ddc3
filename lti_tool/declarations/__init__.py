"""AI-use policy per assignment: the scales, checklists, declarations and submissions."""
