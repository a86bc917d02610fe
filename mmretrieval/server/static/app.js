// The search page: plain DOM code over the JSON API, no framework.
"use strict";

const $ = (id) => document.getElementById(id);
let lastQuery = null; // {text}, {person} or {field, file[, box]}, for exports
let activeSpan = null; // {start, end} the player keeps to

function clock(seconds) {
  const s = Math.max(0, seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = (s % 60).toFixed(1);
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? h + ":" : "") + mm + ":" + sec.padStart(4, "0");
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// The snippet with the query's words marked (whole words, any case).
function highlight(text, query) {
  const words = (query || "").toLowerCase().match(/[\p{L}\p{N}']+/gu) || [];
  const wanted = new Set(words.filter((w) => w.length > 1));
  return text.split(/([\p{L}\p{N}']+)/u).map((part) =>
    wanted.has(part.toLowerCase()) ? "<mark>" + escapeHtml(part) + "</mark>" : escapeHtml(part)
  ).join("");
}

// The moment a hit's picture should show: its best-matching frame, else its snippet's line.
function momentQuery(hit) {
  const at = hit.frame_time !== undefined ? hit.frame_time : hit.text_time;
  return at !== undefined ? "?t=" + at : "";
}

// On a server of several indexes ids repeat between them: a hit's links name its index.
function indexQuery(hit, query = "") {
  if (!hit.index) return query;
  return (query ? query + "&" : "?") + "index=" + encodeURIComponent(hit.index);
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function api(url, options) {
  const response = await fetch(url, options);
  if (response.status === 401) {
    $("token-bar").hidden = false;
    throw new Error("This server needs a token for reading: enter it above.");
  }
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = await response.json();
      detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch (_) { /* not JSON */ }
    throw new Error(detail);
  }
  return response;
}

// The filter fields as query-string parameters (both search endpoints take them there).
function filterParams() {
  const params = new URLSearchParams();
  const path = $("f-path").value.trim();
  if (path) params.append("path", path);
  if ($("f-after").value) params.append("after", $("f-after").value);
  if ($("f-before").value) params.append("before", $("f-before").value);
  const listed = (id) => $(id).value.split(",").map((t) => t.trim()).filter(Boolean);
  for (const tag of listed("f-tags")) params.append("tag", tag);
  for (const code of listed("f-lang")) params.append("lang", code.toLowerCase());
  return params;
}

function searchRequest(format) {
  const k = $("k").value || "12";
  const params = filterParams();
  if (lastQuery.text !== undefined || lastQuery.person !== undefined) {
    if (lastQuery.text !== undefined) params.append("q", lastQuery.text);
    else params.append("person", lastQuery.person);
    params.append("k", k);
    params.append("format", format);
    return ["/search?" + params, { method: "GET" }];
  }
  // file: what it says, shows or sounds like; voice / face: who speaks or is on screen
  const form = new FormData();
  form.append(lastQuery.field, lastQuery.file);
  if (lastQuery.box) form.append("face_box", lastQuery.box);
  form.append("k", k);
  form.append("format", format);
  return ["/search?" + params, { method: "POST", body: form }];
}

async function runSearch(query) {
  lastQuery = query;
  showError("");
  $("status").textContent = "Searching…";
  $("toolbar").hidden = false;
  const started = performance.now();
  try {
    const hits = await (await api(...searchRequest("json"))).json();
    const ms = Math.round(performance.now() - started);
    const label = query.text !== undefined ? "“" + query.text + "”"
      : query.person !== undefined ? query.person
      : (query.field === "file" ? "" : "the " + query.field + " in ") + query.file.name;
    const notes = hits.length && hits[0].notes ? " · " + hits[0].notes.join(" · ") : "";
    $("status").textContent = hits.length + " hits for " + label + " in " + ms + " ms" + notes;
    renderHits(hits, query.text);
  } catch (error) {
    $("status").textContent = "";
    renderHits([], "");
    showError(error.message);
  }
}

function evidenceBars(evidence) {
  const list = document.createElement("ul");
  list.className = "evidence";
  for (const [space, score] of Object.entries(evidence).sort()) {
    const item = document.createElement("li");
    item.title = space + " " + score.toFixed(3);
    item.innerHTML = '<span class="space">' + escapeHtml(space) + '</span><span class="bar"><span style="width:' +
      Math.round(Math.min(1, Math.max(0, score)) * 100) + '%"></span></span><span class="value">' + score.toFixed(2) + "</span>";
    list.append(item);
  }
  return list;
}

// Who speaks most in the hit's clip and whose face shows most (people indexes), and when.
function whoLine(hit) {
  const parts = [];
  if (hit.speaker) parts.push('<span class="speaker" title="who speaks most in the clip">speaks: ' + escapeHtml(hit.speaker) + "</span>");
  if (hit.on_screen) {
    // a face match's frame_time is the moment the face shows sharpest
    const at = hit.evidence.face !== undefined && hit.frame_time !== undefined ? " at " + clock(hit.frame_time) : "";
    parts.push('<span class="on-screen" title="whose face shows most in the clip">on screen: ' + escapeHtml(hit.on_screen) + at + "</span>");
  }
  return parts.length ? '<span class="who">' + parts.join("") + "</span>" : "";
}

function renderHits(hits, queryText) {
  const results = $("results");
  results.replaceChildren();
  hits.forEach((hit, rank) => {
    const item = document.createElement("li");
    const card = document.createElement("button");
    card.type = "button";
    card.className = "card";
    card.dataset.clipId = hit.clip_id;
    card.dataset.start = hit.start;
    card.dataset.end = hit.end;
    const name = hit.path.split(/[\\/]/).pop();
    const frame = indexQuery(hit, momentQuery(hit));
    // the language spoken in the clip (ISO 639-1), when the index knows it
    const language = hit.language
      ? '<span class="lang" title="spoken language">' + escapeHtml(hit.language) + "</span>"
      : "";
    card.innerHTML =
      '<img loading="lazy" alt="" src="/thumbnails/' + hit.clip_id + frame + '">' +
      '<span class="meta"><span class="rank">' + (rank + 1) + '</span><span class="name">' + escapeHtml(name) +
      "</span>" + language + '</span><span class="span">' + clock(hit.start) + "–" + clock(hit.end) +
      '</span><span class="score">score ' + hit.score.toFixed(3) + "</span>" + whoLine(hit) +
      '<span class="snippet">' + highlight(hit.text || "", queryText) + "</span>";
    card.setAttribute("aria-label", "Play " + name + " from " + clock(hit.start) + " to " + clock(hit.end));
    card.append(evidenceBars(hit.evidence));
    card.addEventListener("click", () => play(hit, name));
    item.append(card, copiesButton(hit));
    results.append(item);
  });
}

// "Where else was this used": the other stretches of the archive showing the clip's pictures
// (GET /copies), listed under the card; each plays like a hit.
function copiesButton(hit) {
  const wrap = document.createElement("div");
  wrap.className = "copies";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copies-button";
  button.textContent = "Where else was this used?";
  const list = document.createElement("ul");
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = "Looking…";
    try {
      const copies = await (await api("/copies" + indexQuery(hit, "?clip_id=" + hit.clip_id))).json();
      list.replaceChildren();
      for (const copy of copies) {
        const name = copy.path.split(/[\\/]/).pop();
        const entry = document.createElement("li");
        const open = document.createElement("button");
        open.type = "button";
        open.textContent = name + " " + clock(copy.start) + "–" + clock(copy.end) + " (" + copy.score.toFixed(2) + ")";
        open.addEventListener("click", () => play({ ...copy, clip_id: copy.clip_id ?? hit.clip_id, index: copy.index ?? hit.index }, name));
        entry.append(open);
        list.append(entry);
      }
      button.textContent = copies.length ? "Used here too:" : "Not used elsewhere";
    } catch (error) {
      button.textContent = "Where else was this used?";
      button.disabled = false;
      showError(error.message);
    }
  });
  wrap.append(button, list);
  return wrap;
}

async function play(hit, name) {
  const video = $("video");
  activeSpan = { start: hit.start, end: hit.end };
  $("player").hidden = false;
  $("player-title").textContent = name;
  $("player-span").textContent = clock(hit.start) + "–" + clock(hit.end) + " · score " + hit.score.toFixed(3);
  video.poster = "/thumbnails/" + hit.clip_id + indexQuery(hit, momentQuery(hit));
  const source = "/media/" + hit.file_id + indexQuery(hit);
  const start = () => {
    video.currentTime = hit.start;
    video.play().catch(() => { /* autoplay refused: the controls still work */ });
  };
  if (video.getAttribute("src") !== source) {
    video.src = source;
    video.addEventListener("loadedmetadata", start, { once: true });
  } else {
    start();
  }
  video.focus();
  try {
    const clip = await (await api("/clips/" + hit.clip_id + indexQuery(hit))).json();
    const shots = $("player-shots");
    shots.hidden = !clip.shotlist_url;
    if (clip.shotlist_url) shots.href = clip.shotlist_url;
    const lines = $("player-texts");
    lines.replaceChildren();
    for (const line of clip.texts) {
      const entry = document.createElement("li");
      const seek = document.createElement("button");
      seek.type = "button";
      seek.className = "line " + line.source;
      seek.innerHTML = '<span class="at">' + clock(line.start) + "</span> " + highlight(line.text, lastQuery.text);
      seek.addEventListener("click", () => { video.currentTime = line.start; video.play(); });
      entry.append(seek);
      lines.append(entry);
    }
  } catch (error) {
    showError(error.message);
  }
}

// Stop at the end of the hit's span; seeking outside it by hand releases the span.
function keepToSpan() {
  const video = $("video");
  if (!activeSpan) return;
  if (video.currentTime >= activeSpan.end) {
    video.pause();
    activeSpan = null;
  }
}

async function exportResults(format) {
  if (!lastQuery) return;
  try {
    const response = await api(...searchRequest(format));
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = "mmr-results." + format;
    link.click();
    URL.revokeObjectURL(link.href);
  } catch (error) {
    showError(error.message);
  }
}

function moveFocus(step) {
  const cards = [...document.querySelectorAll(".card")];
  const index = cards.indexOf(document.activeElement);
  if (index >= 0) cards[Math.max(0, Math.min(cards.length - 1, index + step))].focus();
}

function wire() {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("q").value.trim();
    if (text) runSearch({ text });
  });
  const drop = $("drop"), file = $("file");
  file.addEventListener("change", () => file.files[0] && runSearch({ field: "file", file: file.files[0] }));
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); file.click(); }
  });
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files[0]) runSearch({ field: "file", file: event.dataTransfer.files[0] });
  });
  $("voice").addEventListener("change", () => $("voice").files[0] && runSearch({ field: "voice", file: $("voice").files[0] }));
  const byFace = () => {
    const photo = $("face").files[0];
    if (photo) runSearch({ field: "face", file: photo, box: $("face-box").value.trim() });
  };
  $("face").addEventListener("change", byFace);
  $("face-box").addEventListener("change", byFace);
  $("person-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const person = $("person").value.trim();
    if (person) runSearch({ person });
  });
  for (const button of document.querySelectorAll("[data-format]")) {
    button.addEventListener("click", () => exportResults(button.dataset.format));
  }
  $("video").addEventListener("timeupdate", keepToSpan);
  $("video").addEventListener("seeking", () => {
    const video = $("video");
    if (activeSpan && (video.currentTime < activeSpan.start - 0.5 || video.currentTime > activeSpan.end)) activeSpan = null;
  });
  $("token-save").addEventListener("click", () => {
    document.cookie = "mmr_token=" + encodeURIComponent($("token").value) + "; path=/; SameSite=Strict";
    $("token-bar").hidden = true;
    loadStats();
  });
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (event.key === "/" && !typing) { event.preventDefault(); $("q").focus(); }
    else if (event.key === "Escape") { $("video").pause(); }
    else if (!typing && (event.key === "ArrowRight" || event.key === "ArrowDown")) { event.preventDefault(); moveFocus(1); }
    else if (!typing && (event.key === "ArrowLeft" || event.key === "ArrowUp")) { event.preventDefault(); moveFocus(-1); }
  });
}

async function loadStats() {
  try {
    const stats = await (await api("/stats")).json();
    $("index-stats").textContent = stats.files + " files, " + stats.clips + " clips · profile " + stats.profile;
    showPeopleFields(stats.spaces || {});
  } catch (error) {
    $("index-stats").textContent = error.message;
  }
}

// The person search fields, for the spaces the index holds (voices and faces: people profile).
async function showPeopleFields(spaces) {
  const voice = "voice" in spaces, face = "face" in spaces;
  $("people").hidden = !(voice || face);
  $("voice-field").hidden = $("voice").disabled = !voice;
  $("face-field").hidden = $("face").disabled = $("face-box").disabled = !face;
  if (!(voice || face)) return;
  try {
    const persons = await (await api("/people")).json();
    const names = $("person-names");
    names.replaceChildren();
    for (const person of persons.filter((p) => !p.label.includes(":"))) { // named ones
      const option = document.createElement("option");
      option.value = person.label;
      names.append(option);
    }
  } catch (error) {
    showError(error.message);
  }
}

wire();
loadStats();
