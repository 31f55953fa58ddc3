// Posts the page's form at once: a platform's login or launch, or a Deep Linking answer.
document.getElementById("autopost").submit();
