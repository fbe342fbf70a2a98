// The query page: catalogue examples fill the editor; Run posts the query to /sparql and shows the rows.
"use strict";
const editor = document.getElementById("sparql");
const results = document.getElementById("results");
const errorBox = document.getElementById("error");
const statusLine = document.getElementById("status");
const base = document.querySelector(".query-layout").dataset.base;

for (const button of document.querySelectorAll("button.example")) {
  button.addEventListener("click", () => {
    editor.value = button.dataset.query;
    editor.focus();
  });
}

function cell(term) {
  const td = document.createElement("td");
  if (!term) return td;
  if (term.type === "uri" && term.value.startsWith(base)) {
    const link = document.createElement("a");
    link.href = "/page/" + term.value.slice(base.length);
    link.textContent = term.value.slice(base.length);
    link.title = term.value;
    td.append(link);
  } else {
    td.textContent = term.value;
    if (term["xml:lang"]) td.lang = term["xml:lang"];
  }
  return td;
}

function showTable(data) {
  const table = document.createElement("table");
  table.className = "results";
  const head = table.createTHead().insertRow();
  for (const name of data.head.vars) {
    const th = document.createElement("th");
    th.textContent = name;
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of data.results.bindings) {
    const tr = body.insertRow();
    for (const name of data.head.vars) tr.append(cell(row[name]));
  }
  results.replaceChildren(table);
  statusLine.textContent = data.results.bindings.length + " row(s)";
}

async function run() {
  errorBox.hidden = true;
  results.replaceChildren();
  statusLine.textContent = "running…";
  let response;
  try {
    response = await fetch("/sparql", {
      method: "POST",
      headers: {"Accept": "application/sparql-results+json, text/turtle;q=0.9"},
      body: new URLSearchParams({query: editor.value}),
    });
  } catch (failure) {
    statusLine.textContent = "";
    errorBox.textContent = "The server could not be reached: " + failure;
    errorBox.hidden = false;
    return;
  }
  const type = response.headers.get("Content-Type") || "";
  const text = await response.text();
  statusLine.textContent = "";
  if (!response.ok) {
    errorBox.textContent = "Error " + response.status + ": " + text;
    errorBox.hidden = false;
  } else if (type.includes("json") && "boolean" in JSON.parse(text)) {
    statusLine.textContent = "answer: " + JSON.parse(text).boolean;
  } else if (type.includes("json")) {
    showTable(JSON.parse(text));
  } else {
    const pre = document.createElement("pre");
    pre.textContent = text;
    results.replaceChildren(pre);
  }
}
document.getElementById("run").addEventListener("click", run);
editor.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) run();
});
