// Progressive enhancement only: every page works without JavaScript.
// On a check that is still running, follow its progress events and load the report when done.
(function () {
  var list = document.getElementById("progress");
  if (!list || !window.EventSource) return;
  var status = document.querySelector(".status");
  var source = new EventSource(list.getAttribute("data-events"));
  function add(text) {
    var item = document.createElement("li");
    item.textContent = text; // text, never markup
    list.appendChild(item);
  }
  source.addEventListener("progress", function (e) {
    var data = JSON.parse(e.data);
    if (status) status.textContent = "Checking…";
    add(data.message || data.step);
  });
  source.addEventListener("retrying", function () {
    add("Something went wrong; trying again");
  });
  function finish() {
    source.close();
    window.location.reload();
  }
  source.addEventListener("done", finish);
  source.addEventListener("failed", finish);
})();
