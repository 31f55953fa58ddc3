<?php
// The journey's course, through Moodle's own APIs: course MIA (four sections), an editing teacher
// and two students, with the names the journey looks for. MOODLE_DIR is the Moodle code folder.
define('CLI_SCRIPT', true);
require(getenv('MOODLE_DIR') . '/config.php');
require_once($CFG->dirroot . '/course/lib.php');
require_once($CFG->dirroot . '/user/lib.php');
require_once($CFG->libdir . '/enrollib.php');
global $DB;

$course = $DB->get_record('course', ['shortname' => 'MIA'])
    ?: create_course((object)['fullname' => 'Mentorat IA', 'shortname' => 'MIA', 'category' => 1,
                              'format' => 'topics', 'numsections' => 4]);
$people = [
    ['tutor1', 'Tutor#1234', 'Claire', 'Martin', 'editingteacher'],
    ['learner1', 'Learner#1234', 'Camille', 'Durand', 'student'],
    ['learner2', 'Learner#1234', 'Yanis', 'Benali', 'student'],
];
foreach ($people as [$username, $password, $first, $last, $role]) {
    $user = $DB->get_record('user', ['username' => $username]);
    if (!$user) {
        $id = user_create_user((object)['username' => $username, 'password' => $password, 'firstname' => $first,
            'lastname' => $last, 'email' => "$username@example.org", 'auth' => 'manual', 'confirmed' => 1,
            'mnethostid' => $CFG->mnet_localhost_id]);
        $user = $DB->get_record('user', ['id' => $id]);
    }
    enrol_try_internal_enrol($course->id, $user->id, $DB->get_field('role', 'id', ['shortname' => $role]));
    echo "$username id={$user->id}\n";
}
echo "course id={$course->id}\n";
