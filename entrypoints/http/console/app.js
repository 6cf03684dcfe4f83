// The Tasks console: a small client of the public API, with no build step.
//
// Rules this file keeps:
// - Text from the server or the user reaches the page through
//   textContent or attributes only, never through HTML parsing.
// - The access token travels in the Authorization header only. A job's
//   live stream is opened with a short-lived stream token for that job,
//   which is the one thing ever put in a URL.
// - The access token is kept in sessionStorage: it survives a reload of
//   the tab (so a job being watched is picked up again) but not closing
//   it, and other tabs do not see it.

const API = "/api/v1";
const TOKEN_KEY = "tasks-console.token";
const EXPIRES_KEY = "tasks-console.expires";
const PAGE_SIZE = 20;
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const RESUBSCRIBE_DELAYS_MS = [1000, 3000, 10000, 30000];

const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  user: null,
  projectId: null,
  project: null,
  projectsCursor: null,
  tasksCursor: null,
  filters: {},
  taskId: null,
  jobsCursor: null,
  jobs: new Map(), // job id -> entry (see newEntry)
  filenames: new Map(), // attachment id -> filename
};

// -- talking to the API ---------------------------------------------------

class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
    this.sessionEnded = false; // true once the user was sent to log in
  }
}

async function api(method, path, { json, form, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (state.token) init.headers.Authorization = `Bearer ${state.token}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  if (form !== undefined) init.body = form;

  let response;
  try {
    response = await fetch(API + path, init);
  } catch {
    throw new ApiError(
      "The server cannot be reached. Check your connection and try again.",
      0,
      "network",
    );
  }
  if (response.status === 204) return null;

  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.ok) return body;

  const error = new ApiError(
    describeError(body, response),
    response.status,
    body && body.code,
  );
  if (response.status === 401 && state.token) {
    error.sessionEnded = true;
    endSession(error.message);
  }
  throw error;
}

function describeError(body, response) {
  if (!body || typeof body.message !== "string") {
    return `The server answered ${response.status} ${response.statusText}.`;
  }
  const details = [];
  for (const fields of Object.values(body.errors || {})) {
    for (const [field, messages] of Object.entries(fields || {})) {
      const said = Array.isArray(messages) ? messages.join(" ") : String(messages);
      details.push(`${field.replaceAll("_", " ")}: ${said}`);
    }
  }
  return details.length ? `${body.message} ${details.join("; ")}` : body.message;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") {
      search.set(name, value);
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

const enc = encodeURIComponent;

// -- messages -------------------------------------------------------------

function notify(text, kind = "error") {
  const box = $("notice");
  box.hidden = false;
  box.className = `notice notice--${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  $("notice-text").textContent = text;
}

function clearNotice() {
  $("notice").hidden = true;
  $("notice-text").textContent = "";
}

// Run an action from a button or form, showing its error in plain words.
async function attempt(action, button) {
  if (button) button.disabled = true;
  try {
    await action();
  } catch (error) {
    if (!error.sessionEnded) {
      notify(error.message || String(error));
    }
  } finally {
    if (button) button.disabled = false;
  }
}

// -- session --------------------------------------------------------------

function saveSession(token, expiresIn) {
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + expiresIn * 1000));
}

function restoreSession() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const expires = Number(sessionStorage.getItem(EXPIRES_KEY) || 0);
  if (token && expires > Date.now()) {
    state.token = token;
    return true;
  }
  forgetSession();
  return false;
}

function forgetSession() {
  state.token = null;
  state.user = null;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EXPIRES_KEY);
}

function endSession(reason) {
  forgetSession();
  closeAllStreams();
  showAuth();
  notify(`${reason} Please log in again.`);
}

async function logIn(email, password) {
  const issued = await api("POST", "/auth/login", { json: { email, password } });
  saveSession(issued.access_token, issued.expires_in);
  await enterApp();
}

function showAuth() {
  $("app-view").hidden = true;
  $("who").hidden = true;
  $("auth-view").hidden = false;
}

async function enterApp() {
  state.user = await api("GET", "/auth/me");
  $("who-name").textContent = `${state.user.name} (${state.user.email})`;
  $("who").hidden = false;
  $("auth-view").hidden = true;
  $("app-view").hidden = false;
  clearNotice();
  await loadProjects();
  await route();
}

// -- projects -------------------------------------------------------------

async function loadProjects(more = false) {
  const cursor = more ? state.projectsCursor : null;
  const page = await api("GET", `/projects${query({ limit: PAGE_SIZE, cursor })}`);
  const list = $("project-list");
  if (!more) list.replaceChildren();
  for (const project of page.items) list.append(projectItem(project));

  state.projectsCursor = page.next_cursor;
  $("projects-more").hidden = !page.next_cursor;
  $("projects-empty").hidden = list.children.length > 0;
  markCurrent(list, state.projectId);
}

function projectItem(project) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "item";
  button.dataset.id = project.id;
  const name = document.createElement("span");
  name.className = "item__title";
  name.textContent = project.name;
  button.append(name);
  if (project.description) {
    const description = document.createElement("span");
    description.className = "item__meta";
    description.textContent = project.description;
    button.append(description);
  }
  button.addEventListener("click", () => go(project.id, null, "tasks-title"));
  item.append(button);
  return item;
}

function markCurrent(list, id) {
  for (const button of list.querySelectorAll("button.item")) {
    if (button.dataset.id === id) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

async function openProject(projectId) {
  state.project = await api("GET", `/projects/${enc(projectId)}`);
  state.projectId = projectId;
  $("tasks-title").textContent = state.project.name;
  $("project-description-text").textContent = state.project.description || "";
  $("tasks-pane").hidden = false;
  markCurrent($("project-list"), projectId);
  await loadTasks();
}

// -- tasks ----------------------------------------------------------------

function readFilters() {
  const form = new FormData($("filter-form"));
  return Object.fromEntries(
    ["status", "priority", "due_from", "due_to", "sort"].map((name) => [
      name,
      form.get(name) || "",
    ]),
  );
}

async function loadTasks(more = false) {
  const cursor = more ? state.tasksCursor : null;
  const path = `/projects/${enc(state.projectId)}/tasks${query({
    ...state.filters,
    limit: PAGE_SIZE,
    cursor,
  })}`;
  const page = await api("GET", path);
  const list = $("task-list");
  if (!more) list.replaceChildren();
  for (const task of page.items) list.append(taskItem(task));

  state.tasksCursor = page.next_cursor;
  $("tasks-more").hidden = !page.next_cursor;
  $("tasks-empty").hidden = list.children.length > 0;
  markCurrent(list, state.taskId);
}

const STATUS_WORDS = { todo: "To do", in_progress: "In progress", done: "Done" };

function taskFacts(task) {
  const facts = [STATUS_WORDS[task.status] || task.status, `${task.priority} priority`];
  if (task.due_date) facts.push(`due ${task.due_date}`);
  return facts.join(" · ");
}

function taskItem(task) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "item";
  button.dataset.id = task.id;
  const title = document.createElement("span");
  title.className = "item__title";
  title.textContent = task.title;
  const meta = document.createElement("span");
  meta.className = "item__meta";
  meta.textContent = taskFacts(task);
  button.append(title, meta);
  button.addEventListener("click", () =>
    go(state.projectId, task.id, "task-title-text"),
  );
  item.append(button);
  return item;
}

async function openTask(taskId) {
  closeAllStreams();
  state.jobs.clear();
  $("job-list").replaceChildren();

  const task = await api("GET", `/tasks/${enc(taskId)}`);
  state.taskId = taskId;
  $("task-title-text").textContent = task.title;
  $("task-meta").textContent = taskFacts(task);
  $("task-description-text").textContent = task.description || "";
  $("task-pane").hidden = false;
  markCurrent($("task-list"), taskId);
  await loadJobs();
}

function closeTask() {
  closeAllStreams();
  state.jobs.clear();
  state.taskId = null;
  $("job-list").replaceChildren();
  $("task-pane").hidden = true;
  markCurrent($("task-list"), null);
}

// -- navigation: #/p/{project}[/t/{task}] -----------------------------------

let focusAfterRoute = null;

function go(projectId, taskId, focusId) {
  focusAfterRoute = focusId;
  let hash = `#/p/${enc(projectId)}`;
  if (taskId) hash += `/t/${enc(taskId)}`;
  if (location.hash === hash) route();
  else location.hash = hash;
}

function parseHash() {
  const match = /^#\/p\/([^/]+)(?:\/t\/([^/]+))?$/.exec(location.hash);
  if (!match) return { projectId: null, taskId: null };
  return {
    projectId: decodeURIComponent(match[1]),
    taskId: match[2] ? decodeURIComponent(match[2]) : null,
  };
}

async function route() {
  if (!state.token) return;
  const { projectId, taskId } = parseHash();
  const focusId = focusAfterRoute;
  focusAfterRoute = null;
  try {
    if (!projectId) {
      state.projectId = null;
      $("tasks-pane").hidden = true;
      closeTask();
      return;
    }
    if (projectId !== state.projectId) await openProject(projectId);
    if (!taskId) closeTask();
    else if (taskId !== state.taskId) await openTask(taskId);
    if (focusId) $(focusId).focus();
  } catch (error) {
    if (error.sessionEnded) return;
    notify(error.message);
  }
}

// -- jobs -----------------------------------------------------------------

async function loadJobs(more = false) {
  const cursor = more ? state.jobsCursor : null;
  const taskId = state.taskId;
  const [page, attachments] = await Promise.all([
    api("GET", `/tasks/${enc(taskId)}/jobs${query({ limit: PAGE_SIZE, cursor })}`),
    more ? null : api("GET", `/tasks/${enc(taskId)}/attachments?limit=100`),
  ]);
  if (taskId !== state.taskId) return;
  for (const attachment of attachments ? attachments.items : []) {
    state.filenames.set(attachment.id, attachment.filename);
  }
  await learnFilenames(page.items);

  for (const job of page.items) {
    if (state.jobs.has(job.id)) continue;
    const entry = newEntry(job);
    $("job-list").append(entry.element);
    follow(entry);
  }
  state.jobsCursor = page.next_cursor;
  $("jobs-more").hidden = !page.next_cursor;
  showWhetherJobsEmpty();
}

function showWhetherJobsEmpty() {
  $("jobs-empty").hidden = $("job-list").children.length > 0;
}

async function learnFilenames(jobs) {
  const unknown = jobs.filter((job) => !state.filenames.has(job.attachment_id));
  await Promise.all(
    unknown.map(async (job) => {
      try {
        const attachment = await api("GET", `/attachments/${enc(job.attachment_id)}`);
        state.filenames.set(attachment.id, attachment.filename);
      } catch {
        state.filenames.set(job.attachment_id, "(file)");
      }
    }),
  );
}

function newEntry(job, filename) {
  const element = $("job-template").content.firstElementChild.cloneNode(true);
  const part = (name) => element.querySelector(`.job__${name}`);
  const entry = {
    id: job.id,
    element,
    parts: {
      name: part("name"),
      status: part("status"),
      bar: part("bar"),
      percent: part("percent"),
      stage: part("stage"),
      error: part("error"),
      summary: part("summary"),
      summaryText: part("summary-text"),
      text: part("text"),
      textBody: part("text-body"),
      cancel: part("cancel"),
    },
    job: { ...job },
    source: null,
    lastSeq: 0,
    failures: 0,
    textLoaded: false,
  };
  const name = filename || state.filenames.get(job.attachment_id) || "(file)";
  element.dataset.jobId = job.id;
  entry.parts.name.textContent = name;
  entry.parts.bar.setAttribute("aria-label", `Progress of ${name}`);
  entry.parts.cancel.setAttribute("aria-label", `Cancel reading ${name}`);
  entry.parts.cancel.addEventListener("click", () => cancelJob(entry));
  entry.parts.text.addEventListener("toggle", () => {
    if (entry.parts.text.open && !entry.textLoaded) refreshJob(entry);
  });
  state.jobs.set(job.id, entry);
  paint(entry);
  return entry;
}

function stageWords(job) {
  switch (job.status) {
    case "queued":
      return job.attempts > 0 ? "Waiting to try again" : "Waiting for a worker";
    case "succeeded":
      return "Done";
    case "failed":
      return "Failed";
    case "cancelled":
      return "Cancelled";
  }
  if (job.cancel_requested) return "Stopping at the next checkpoint…";
  switch (job.stage) {
    case "downloading":
      return "Fetching the file";
    case "ocr":
      return job.pages_total
        ? `Reading the text: page ${job.pages_done} of ${job.pages_total} done`
        : "Reading the text";
    case "summarizing":
      return "Writing the summary";
    default:
      return "Starting";
  }
}

function paint(entry) {
  const { job, parts } = entry;
  const progress = Math.max(0, Math.min(100, Number(job.progress) || 0));
  parts.status.textContent = job.status;
  parts.status.dataset.status = job.status;
  parts.bar.value = progress;
  parts.bar.setAttribute("aria-valuetext", `${progress} percent`);
  parts.percent.textContent = `${progress}%`;
  parts.stage.textContent = stageWords(job);
  parts.cancel.hidden = FINISHED.has(job.status);

  const error = job.error && job.error.message;
  parts.error.hidden = !error;
  parts.error.textContent = error || "";

  parts.summary.hidden = !job.summary;
  parts.summaryText.textContent = job.summary || "";
  parts.text.hidden = job.status !== "succeeded";
  if (typeof job.text === "string") {
    parts.textBody.textContent = job.text || "(no text was found)";
    entry.textLoaded = true;
  }
}

async function refreshJob(entry) {
  try {
    entry.job = await api("GET", `/jobs/${enc(entry.id)}`);
    paint(entry);
  } catch (error) {
    if (!error.sessionEnded) notify(error.message);
  }
}

async function cancelJob(entry) {
  await attempt(async () => {
    const job = await api("DELETE", `/jobs/${enc(entry.id)}/cancel`);
    entry.job = { ...entry.job, ...job };
    paint(entry);
  }, entry.parts.cancel);
}

// -- live updates ---------------------------------------------------------

// Subscribe to a job's events with the browser's own EventSource.
//
// EventSource cannot send an Authorization header, so the console asks for
// a stream token for this one job and opens the URL the API answers with.
// The browser reconnects by itself, sending Last-Event-ID, and stops on a
// 204. If the stream is closed for good before the job ended (the stream
// token expired, the server restarted), a new token is fetched and the
// stream replays from the start; events already seen are skipped by id.
async function follow(entry) {
  if (entry.source || FINISHED.has(entry.job.status)) return;
  let answer;
  try {
    answer = await api("POST", `/jobs/${enc(entry.id)}/stream-token`);
  } catch (error) {
    if (error.sessionEnded) return;
    showStreamTrouble(entry, error.message);
    return;
  }
  if (state.jobs.get(entry.id) !== entry) return; // the task was closed

  const source = new EventSource(answer.url);
  entry.source = source;
  const on = (type, apply) =>
    source.addEventListener(type, (event) => receive(entry, event, apply));

  on("progress", (data) => {
    entry.job.stage = data.stage;
    entry.job.pages_done = data.pages_done;
    entry.job.pages_total = data.pages_total;
    entry.job.progress = data.percent;
  });
  on("status", (data) => {
    Object.assign(entry.job, data);
    if (data.status === "running" || data.status === "queued") {
      entry.job.error = null;
    }
  });
  on("summary_ready", (data) => {
    entry.job.summary = data.summary;
  });
  // A job's "error" event and the EventSource's own connection errors
  // share a name; only the first carries data.
  source.addEventListener("error", (event) => {
    if (event instanceof MessageEvent && typeof event.data === "string") {
      receive(entry, event, (data) => {
        entry.job.error = data;
      });
    } else {
      streamInterrupted(entry, source);
    }
  });
}

function receive(entry, event, apply) {
  const seq = Number(event.lastEventId) || 0;
  if (seq && seq <= entry.lastSeq) return;
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    return;
  }
  entry.lastSeq = Math.max(entry.lastSeq, seq);
  entry.failures = 0;
  apply(data);
  paint(entry);

  if (event.type === "status" && FINISHED.has(data.status)) {
    stopStream(entry);
    refreshJob(entry);
  }
}

function streamInterrupted(entry, source) {
  if (source.readyState !== EventSource.CLOSED) return; // it reconnects itself
  if (entry.source === source) entry.source = null;
  if (state.jobs.get(entry.id) !== entry || FINISHED.has(entry.job.status)) return;

  const delay = RESUBSCRIBE_DELAYS_MS[entry.failures];
  entry.failures += 1;
  if (delay === undefined) {
    showStreamTrouble(entry, "Live updates stopped. Reload the page to try again.");
    return;
  }
  setTimeout(async () => {
    if (state.jobs.get(entry.id) !== entry) return;
    await refreshJob(entry);
    follow(entry);
  }, delay);
}

function showStreamTrouble(entry, message) {
  entry.parts.error.hidden = false;
  entry.parts.error.textContent = message;
}

function stopStream(entry) {
  if (entry.source) entry.source.close();
  entry.source = null;
}

function closeAllStreams() {
  for (const entry of state.jobs.values()) stopStream(entry);
}

// -- uploads --------------------------------------------------------------

function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function uploadFiles(files) {
  if (!state.taskId) return;
  const language = $("upload-language").value.trim() || "eng";
  for (const file of Array.from(files)) {
    await uploadFile(file, language);
  }
}

async function uploadFile(file, language) {
  const taskId = state.taskId;
  const pending = newPendingCard(file.name);
  $("job-list").prepend(pending);
  showWhetherJobsEmpty();

  const form = new FormData();
  form.append("file", file, file.name);
  form.append("language", language);
  try {
    const answer = await api("POST", `/tasks/${enc(taskId)}/attachments`, {
      form,
      headers: { "Idempotency-Key": idempotencyKey() },
    });
    pending.remove();
    if (taskId !== state.taskId || state.jobs.has(answer.job.id)) return;
    state.filenames.set(answer.attachment.id, answer.attachment.filename);
    const entry = newEntry(answer.job, answer.attachment.filename);
    $("job-list").prepend(entry.element);
    follow(entry);
  } catch (error) {
    pending.remove();
    showWhetherJobsEmpty();
    if (!error.sessionEnded) {
      notify(`“${file.name}” was not uploaded: ${error.message}`);
    }
  }
}

function newPendingCard(filename) {
  const element = $("job-template").content.firstElementChild.cloneNode(true);
  element.classList.add("job--pending");
  element.querySelector(".job__name").textContent = filename;
  element.querySelector(".job__status").textContent = "uploading";
  const bar = element.querySelector(".job__bar");
  bar.removeAttribute("value"); // an indeterminate bar
  bar.setAttribute("aria-label", `Uploading ${filename}`);
  element.querySelector(".job__percent").textContent = "";
  element.querySelector(".job__stage").textContent = "Sending the file";
  return element;
}

function setUpDropZone() {
  const zone = $("upload-form");
  const hasFiles = (event) =>
    Array.from(event.dataTransfer ? event.dataTransfer.types : []).includes("Files");

  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("drop--over");
    });
  }
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove("drop--over");
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("drop--over");
    attempt(() => uploadFiles(event.dataTransfer.files));
  });
  // A file dropped just beside the zone must not replace the page.
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => {
      if (hasFiles(event) && !zone.contains(event.target)) event.preventDefault();
    });
  }

  const input = $("upload-file");
  input.addEventListener("change", () => {
    const files = Array.from(input.files);
    input.value = "";
    attempt(() => uploadFiles(files));
  });
  zone.addEventListener("submit", (event) => event.preventDefault());
}

// -- forms ----------------------------------------------------------------

function fields(form) {
  return Object.fromEntries(new FormData(form).entries());
}

function onSubmit(id, handler) {
  const form = $(id);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(() => handler(form), form.querySelector("button[type=submit]"));
  });
}

function wireForms() {
  onSubmit("login-form", async (form) => {
    const { email, password } = fields(form);
    await logIn(email.trim(), password);
    form.reset();
  });

  onSubmit("register-form", async (form) => {
    const { name, email, password } = fields(form);
    await api("POST", "/auth/register", {
      json: { name: name.trim(), email: email.trim(), password },
    });
    await logIn(email.trim(), password);
    form.reset();
  });

  onSubmit("project-form", async (form) => {
    const { name, description } = fields(form);
    const project = await api("POST", "/projects", { json: { name, description } });
    form.reset();
    await loadProjects();
    go(project.id, null, "tasks-title");
  });

  onSubmit("task-form", async (form) => {
    const body = fields(form);
    if (!body.due_date) delete body.due_date;
    const task = await api("POST", `/projects/${enc(state.projectId)}/tasks`, {
      json: body,
    });
    form.reset();
    await loadTasks();
    go(state.projectId, task.id, "task-title-text");
  });

  onSubmit("filter-form", async () => {
    state.filters = readFilters();
    await loadTasks();
  });
  $("filter-form").addEventListener("reset", () => {
    // The fields are cleared after this event; read them afterwards.
    setTimeout(() => {
      state.filters = readFilters();
      attempt(() => loadTasks());
    });
  });

  $("logout").addEventListener("click", () => {
    forgetSession();
    closeAllStreams();
    state.jobs.clear();
    state.projectId = null;
    state.taskId = null;
    $("job-list").replaceChildren();
    $("tasks-pane").hidden = true;
    $("task-pane").hidden = true;
    history.replaceState(null, "", location.pathname);
    showAuth();
    notify("You are logged out.", "info");
  });
  $("notice-close").addEventListener("click", clearNotice);
  $("back-to-tasks").addEventListener("click", () => $("tasks-title").focus());
  $("back-to-projects").addEventListener("click", () =>
    $("projects-title").focus(),
  );

  const more = (id, load) =>
    $(id).addEventListener("click", (event) =>
      attempt(() => load(true), event.currentTarget),
    );
  more("projects-more", loadProjects);
  more("tasks-more", loadTasks);
  more("jobs-more", loadJobs);
}

// -- start ----------------------------------------------------------------

async function start() {
  wireForms();
  setUpDropZone();
  window.addEventListener("hashchange", route);

  if (!restoreSession()) {
    showAuth();
    return;
  }
  try {
    await enterApp();
  } catch (error) {
    if (!error.sessionEnded) {
      showAuth();
      notify(error.message);
    }
  }
}

start();
