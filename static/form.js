/* form.js: an optional enhancement of the web form; the form works without it.
   Shows how many satisfaction questions of the page are answered and moves
   the focus to the error summary after a failed post. */
(function () {
	"use strict";
	var form = document.querySelector("form");
	var out = document.getElementById("progress");
	var summary = document.getElementById("summary");
	if (summary) summary.focus();
	if (!form || !out) return;
	var items = form.querySelectorAll("fieldset.item:not(.opt)");
	var names = [];
	items.forEach(function (f) {
		var r = f.querySelector("input[type=radio]");
		if (r && f.id.indexOf("q-") === 0 && names.indexOf(r.name) < 0 &&
		    r.name !== "gender" && r.name !== "age_band") names.push(r.name);
	});
	if (names.length === 0) return; /* a page of optional questions only */
	var en = document.documentElement.lang === "en";
	function update() {
		var n = 0;
		names.forEach(function (name) {
			if (form.querySelector("input[name='" + name + "']:checked")) n++;
		});
		out.textContent = en ? n + " of " + names.length + " questions answered" :
		    "Đã trả lời " + n + "/" + names.length + " câu hỏi";
	}
	form.addEventListener("change", update);
	update();
})();
