// The AI assistant in exercises: answers stream in from POST …/ai/chat (server-sent events:
// "delta" {text}, then "done" {call_id, usage} or "error" {code, message}); "Stop" aborts the
// request, and the server keeps the part already received. Answers land in the exercise's own
// fields, which activity.js autosaves into the draft. The launch token is in the URL (no cookies).
(function () {
  "use strict";
  if (window.mentoratAssistant) return;  // the script may be included by several exercises
  window.mentoratAssistant = true;
  var T = (document.getElementById("assistant-i18n") || {dataset: {}}).dataset;

  function parseEvent(block) {
    var event = "message", data = [];
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) event = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
    });
    if (!data.length) return null;
    return {event: event, data: JSON.parse(data.join("\n"))};
  }

  // Resolves with the "done" data; rejects with {code, message} (code "aborted" when stopped).
  function streamChat(url, body, onDelta, signal) {
    return fetch(url, {method: "POST", credentials: "omit", signal: signal, body: JSON.stringify(body),
                       headers: {"Content-Type": "application/json", "Accept": "text/event-stream"}})
      .then(function (response) {
        if (!response.ok) {
          return response.json().then(function (data) { throw data.error; },
                                      function () { throw {code: "http_" + response.status, message: T.failed}; });
        }
        var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "", result = null;
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) {
              if (!result) throw {code: "interrupted", message: T.failed};
              return result;
            }
            buffer += decoder.decode(chunk.value, {stream: true});
            var blocks = buffer.split("\n\n");
            buffer = blocks.pop();
            for (var i = 0; i < blocks.length; i++) {
              var ev = parseEvent(blocks[i]);
              if (!ev) continue;
              if (ev.event === "delta") onDelta(ev.data.text);
              else if (ev.event === "done") result = ev.data;
              else if (ev.event === "error") throw ev.data;
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") throw {code: "aborted", message: T.stopped};
        if (error && error.code) throw error;
        throw {code: "network", message: T.failed};
      });
  }

  function field(box, name) {
    var form = box.closest("form");
    return form && form.querySelector('[data-field="' + name + '"]');
  }

  function changed(element) {  // activity.js saves the draft on "input"
    element.dispatchEvent(new Event("input", {bubbles: true}));
  }

  // Buttons and status of one assistant box while its requests run.
  function session(box) {
    var run = box.querySelector('[data-ai="run"]'), stop = box.querySelector('[data-ai="stop"]');
    var status = box.querySelector("[data-ai-status]"), controller = new AbortController();
    var restart = box.querySelector('[data-ai="restart"]');
    run.disabled = true; if (restart) restart.disabled = true;
    stop.hidden = false;
    status.classList.remove("error");
    status.textContent = T.answering;
    box.setAttribute("aria-busy", "true");
    stop.onclick = function () { controller.abort(); };
    return {
      signal: controller.signal,
      end: function (text, isError) {
        run.disabled = false; if (restart) restart.disabled = false;
        stop.hidden = true;
        box.removeAttribute("aria-busy");
        status.textContent = text;
        status.classList.toggle("error", !!isError);
      },
    };
  }

  // Streams the answer to `prompt` into the textarea `target`; its old text stays until the
  // first delta arrives, and comes back if none does.
  function answerInto(box, target, prompt, signal) {
    var before = target.value, received = "";
    target.readOnly = true;
    var body = {purpose: box.dataset.purpose, exercise_id: box.dataset.exercise, prompt: prompt};
    return streamChat(box.dataset.chatUrl, body, function (text) {
      received += text;
      target.value = received;
    }, signal).then(function (done) {
      return done;
    }, function (error) {
      if (!received) target.value = before;
      throw error;
    }).finally(function () {
      target.readOnly = false;
      if (target.value !== before) changed(target);
    });
  }

  // The notice about the assistant, before a person's first use in the course: until they
  // acknowledge it the server refuses (ai_notice_required), and the buttons lead them to it.
  var notice = document.getElementById("ai-notice");

  function showNotice() {
    if (!notice) return;
    notice.scrollIntoView({block: "start"});
    var button = notice.querySelector('[data-ai="acknowledge"]');
    (button || notice).focus();
  }

  if (notice) {
    var acknowledge = notice.querySelector('[data-ai="acknowledge"]');
    var noticeStatus = notice.querySelector("[data-ai-notice-status]");
    acknowledge.addEventListener("click", function () {
      acknowledge.disabled = true;
      fetch(notice.dataset.ackUrl, {method: "POST", credentials: "omit", headers: {"Accept": "application/json"}})
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          acknowledge.hidden = true;
          noticeStatus.classList.remove("error");
          noticeStatus.textContent = T.acknowledged;
          document.querySelectorAll("[data-ai-notice-pending]").forEach(function (p) { p.hidden = true; });
        })
        .catch(function () {
          acknowledge.disabled = false;
          noticeStatus.classList.add("error");
          noticeStatus.textContent = T.ackFailed;
        });
    });
  }

  function failure(error) {
    if (error.code === "ai_notice_required") showNotice();
    return error.code === "aborted" ? T.stopped : (error.message || T.failed);
  }

  // ai_prompt: run the (edited) prompt, the answer goes into the "answer" field.
  function setupPrompt(box) {
    var run = box.querySelector('[data-ai="run"]');
    if (!run) return;
    run.addEventListener("click", function () {
      var prompt = field(box, "prompt"), answer = field(box, "answer");
      if (!prompt.value.trim()) { box.querySelector("[data-ai-status]").textContent = T.empty; prompt.focus(); return; }
      var s = session(box);
      answerInto(box, answer, prompt.value, s.signal).then(function () { s.end(T.answered); },
                                                           function (e) { s.end(failure(e), e.code !== "aborted"); });
    });
  }

  // prompt_transformation: the exercise's vague prompt and the learner's improved one, side by side.
  function setupCompare(box) {
    var run = box.querySelector('[data-ai="run"]');
    if (!run) return;
    run.addEventListener("click", function () {
      var improved = field(box, "improved_prompt");
      if (!improved.value.trim()) { box.querySelector("[data-ai-status]").textContent = T.empty; improved.focus(); return; }
      var s = session(box), errors = [];
      var both = [answerInto(box, field(box, "vague_answer"), box.dataset.vaguePrompt, s.signal),
                  answerInto(box, field(box, "improved_answer"), improved.value, s.signal)]
        .map(function (p) { return p.catch(function (e) { errors.push(e); }); });
      Promise.all(both).then(function () {
        if (!errors.length) s.end(T.answered);
        else s.end(failure(errors[0]), errors[0].code !== "aborted");
      });
    });
  }

  // role_play: a conversation; the AI opened it (the exercise's opening line, shown first).
  function setupRolePlay(box) {
    var run = box.querySelector('[data-ai="run"]'), input = box.querySelector("[data-chat-input]");
    var log = box.querySelector("[data-chat-log]");
    if (!run || !input) return;

    function turns() {
      return Array.prototype.map.call(log.querySelectorAll("[data-turn]"), function (li) {
        return {role: li.querySelector('[data-field$=".role"]').value,
                content: li.querySelector('[data-field$=".content"]').value};
      });
    }

    function addTurn(role, content) {
      var index = log.querySelectorAll("[data-turn]").length;
      // The character's words stream in as text (textContent: nothing in them is markup), then
      // become the server's rendering of the whole answer (see streamed()).
      var li = document.createElement("li"), who = document.createElement("span");
      var p = document.createElement(role === "user" ? "p" : "div");
      li.className = "turn " + role; li.setAttribute("data-turn", "");
      if (role !== "user") p.className = "ai-answer";
      who.className = "speaker"; who.textContent = role === "user" ? T.you : T.character;
      p.textContent = content;
      li.appendChild(who); li.appendChild(p);
      [["role", role], ["content", content]].forEach(function (pair) {
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.value = pair[1];
        hidden.setAttribute("data-field", "transcript." + index + "." + pair[0]);
        li.appendChild(hidden);
      });
      log.appendChild(li);
      return li;
    }

    function send() {
      var text = input.value.trim();
      if (!text) { box.querySelector("[data-ai-status]").textContent = T.empty; input.focus(); return; }
      var messages = turns().concat([{role: "user", content: text}]);
      var s = session(box), received = "";
      var userTurn = addTurn("user", text), reply = addTurn("assistant", "");
      var shown = reply.querySelector(".ai-answer"), stored = reply.querySelector('[data-field$=".content"]');
      input.value = "";
      streamChat(box.dataset.chatUrl, {purpose: "role_play", exercise_id: box.dataset.exercise, messages: messages},
                 function (delta) { received += delta; shown.textContent = received; stored.value = received; }, s.signal)
        .then(function (done) {
          // The answer's Markdown subset, rendered and sanitised by the server (common/markdown.py:
          // raw HTML escaped, only p, br, strong, em, lists, code and quotes, no attribute):
          // one renderer for the page, the receipt and the grading view, none written in JS.
          if (done && typeof done.html === "string" && done.html) shown.innerHTML = done.html;
          s.end(T.answered); changed(stored); input.focus();
        }, function (error) {
          if (!received) {  // nothing came back: the learner's reply goes back into the box
            log.removeChild(reply); log.removeChild(userTurn); input.value = text;
          } else {
            changed(stored);
          }
          s.end(failure(error), error.code !== "aborted");
        });
    }

    run.addEventListener("click", send);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(); }
    });
    var restart = box.querySelector('[data-ai="restart"]');
    if (restart) restart.addEventListener("click", function () {
      if (!log.querySelector("[data-turn]") || !window.confirm(T.restart)) return;
      log.querySelectorAll("[data-turn]").forEach(function (li) { log.removeChild(li); });
      changed(input);
    });
  }

  document.querySelectorAll('[data-assistant="prompt"]').forEach(setupPrompt);
  document.querySelectorAll('[data-assistant="compare"]').forEach(setupCompare);
  document.querySelectorAll('[data-assistant="role_play"]').forEach(setupRolePlay);
})();
