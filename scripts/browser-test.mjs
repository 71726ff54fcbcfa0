// `npm run test:browser`: the dashboard as a person uses it, in Debian's Chromium driven by
// puppeteer-core, against `wrangler dev` (fresh local state) and a real webhook receiver.
// Sign in; create a webhook and copy its secret; send a test event and see it delivered;
// make the receiver fail, see the retries and the failure, redeliver after it recovers;
// an outage fails several deliveries: recover them all with one control and see them succeed;
// rotate the secret; create and revoke a key; the event log; sign in with a read key and
// find no write actions; sign in with a webhooks-only key: manage webhooks, nothing else
// offered; /docs renders. Screenshots go to .screenshots/ (git-ignored);
// `npm run test:browser -- --update-screenshots` writes the README's, in docs/screenshots/.
// CHROMIUM=/path/to/chrome overrides the browser; HEADFUL=1 shows it.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";
import { buildDashboardAssets } from "./dashboard-assets.mjs";
import { startLocalWorker } from "./local-worker.mjs";
import { startReceiver, verifyStandard, verifyWebhook } from "./webhook-receiver.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SHOTS = process.argv.includes("--update-screenshots")
  ? join(ROOT, "docs", "screenshots")
  : join(ROOT, ".screenshots");
// Short gaps so a delivery exhausts its retries within seconds (seven attempts in all).
const RETRY_SCHEDULE = "1,1,1,1,1,1";
const CHROMIUM = process.env.CHROMIUM ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);

const started = Date.now();
const step = (text) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function check(condition, message) {
  if (!condition) throw new Error(message);
}

const cleanups = [];
async function cleanup() {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
}

async function main() {
  if (!CHROMIUM) throw new Error("No Chromium: install Debian's (apt-get install -y chromium) or set CHROMIUM=");
  step("bundling the dashboard, starting the receiver and wrangler dev");
  const gzipped = await buildDashboardAssets();
  check(gzipped < 100 * 1024, `dashboard JavaScript is ${gzipped} bytes gzipped`);
  const receiver = await startReceiver();
  cleanups.push(() => receiver.close());
  const worker = await startLocalWorker({
    vars: { WEBHOOK_ALLOW_LOCALHOST: "true", WEBHOOK_RETRY_SCHEDULE: RETRY_SCHEDULE },
  });
  cleanups.push(() => worker.stop());
  const base = worker.url;

  const api = async (method, path, key, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    check(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const org = await api("POST", "/v1/admin/organizations", worker.adminToken, {
    name: "Browser suite",
    plan: "pro",
    owner: { name: "Dana Owner", email: "dana@example.com" },
  });
  const adminKey = org.apiKey.key;
  const readKey = (await api("POST", "/v1/api-keys", adminKey, { name: "reader", scope: "read" })).key;
  // webhooks:write alone cannot list or open webhooks (GET needs webhooks:read): a key
  // that manages them from the dashboard holds both.
  const webhooksKey = await api("POST", "/v1/api-keys", adminKey, {
    name: "webhook manager",
    permissions: ["webhooks:read", "webhooks:write"],
  });
  const webhooksReadKey = await api("POST", "/v1/api-keys", adminKey, {
    name: "webhook viewer",
    permissions: ["webhooks:read"],
  });

  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: !process.env.HEADFUL,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  cleanups.push(() => browser.close());
  await browser.defaultBrowserContext().overridePermissions(base, ["clipboard-read", "clipboard-write"]);
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(String(error)));
  page.on("dialog", (dialog) => void dialog.accept());
  mkdirSync(SHOTS, { recursive: true });
  // Screenshots never show a whole secret, even a throwaway one: signing secrets and keys
  // (shown once after creation) are masked for the picture, then put back.
  const shot = async (name) => {
    await page.evaluate(() => {
      const secret = /(whsec_|vk_live_|ik_live_)([A-Za-z0-9+/=_-]{4})[A-Za-z0-9+/=_-]{8,}/g;
      const mask = (value) => value.replace(secret, "$1$2••••••••");
      window.__unmask = [];
      for (const field of document.querySelectorAll("input, textarea")) {
        const original = field.value;
        if (mask(original) === original) continue;
        field.value = mask(original);
        window.__unmask.push(() => {
          field.value = original;
        });
      }
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node;
        const original = text.data;
        if (mask(original) === original) continue;
        text.data = mask(original);
        window.__unmask.push(() => {
          text.data = original;
        });
      }
    });
    try {
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    } finally {
      await page.evaluate(() => {
        for (const undo of window.__unmask ?? []) undo();
        window.__unmask = [];
      });
    }
  };
  const text = () => page.evaluate(() => document.body.textContent);
  const waitForText = (needle, timeout = 15_000) =>
    page.waitForFunction((t) => document.body.textContent.includes(t), { timeout }, needle);
  const button = (name) => page.locator(`::-p-aria([name="${name}"][role="button"])`);
  const labelled = (name) => page.locator(`::-p-aria(${name})`);
  // Opens the webhook's "Edit URL, description, events and filters" card. Not by clicking
  // its summary: that click now and then missed (the deliveries and the chart load above it
  // and move it), and the next step waited 30 s for a field that never showed. Opening a
  // <details> is the browser's own behaviour, not the dashboard's.
  const openEditor = () =>
    page.$eval("details.card", (details) => {
      details.open = true;
    });
  const navLinks = () => page.$$eval("nav a", (els) => els.map((el) => el.textContent));
  const textbox = (name) => page.locator(`::-p-aria([name="${name}"][role="textbox"])`);
  /** Every visible form control has a label (a <label>, aria-label or aria-labelledby). */
  const assertLabelled = async (screen) => {
    const unlabelled = await page.$$eval("input, select, textarea", (els) =>
      els
        .filter((el) => el.type !== "hidden" && el.offsetParent !== null)
        .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")))
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    check(unlabelled.length === 0, `${screen}: unlabelled controls ${unlabelled}`);
  };
  /** Presses Refresh until at least `count` deliveries show `status`. */
  const waitForStatus = async (status, count, timeout = 20_000) => {
    const deadline = Date.now() + timeout;
    for (;;) {
      await button("Refresh").click();
      await sleep(500);
      const statuses = await page.$$eval("details[data-delivery]", (els) => els.map((el) => el.dataset.status));
      if (statuses.filter((s) => s === status).length >= count) return;
      check(Date.now() < deadline, `no ${count} ${status} deliveries after ${timeout / 1000} s: ${statuses}`);
      await sleep(1000);
    }
  };

  try {
    step("/dashboard: served with its Content-Security-Policy, JavaScript under budget");
    const response = await page.goto(`${base}/dashboard`);
    await labelled("API key").wait();
    const firstRender = await page.evaluate(() => performance.now());
    check(firstRender < 1000, `first render took ${firstRender} ms`);
    const csp = response.headers()["content-security-policy"] ?? "";
    check(csp.includes("default-src 'self'") && !csp.includes("unsafe-inline"), `CSP: ${csp}`);
    step(
      `  ✓ CSP "${csp.split(";")[0]}…", ${(gzipped / 1024).toFixed(1)} KiB of JavaScript gzipped, sign-in form after ${Math.round(firstRender)} ms`,
    );
    await assertLabelled("sign-in");

    step("sign in with the admin key (kept in sessionStorage only)");
    await labelled("API key").fill("vk_live_not_a_real_key");
    await button("Sign in").click();
    await waitForText("Sign-in failed");
    await shot("sign-in");
    await labelled("API key").fill(adminKey);
    await button("Sign in").click();
    await waitForText("Dana Owner <dana@example.com>");
    const stored = await page.evaluate(() => ({
      session: sessionStorage.length,
      local: localStorage.length,
      cookie: document.cookie,
    }));
    check(stored.session === 1 && stored.local === 0 && stored.cookie === "", `storage ${JSON.stringify(stored)}`);

    step("create a webhook (event picker, assignee filter) and copy its secret");
    const hookUrl = `${receiver.url}/hook/dash`;
    await textbox("Endpoint URL").fill(hookUrl);
    await textbox("Description").fill("Browser suite receiver");
    // Filters: only tasks assigned to the owner (every task below is assigned to them).
    await page.waitForFunction(() => document.querySelectorAll("option[value^='user_']").length > 0);
    const ownerOption = await page.$eval("option[value^='user_']", (o) => o.value);
    await page.locator("::-p-aria(Only tasks assigned to)").fill(ownerOption);
    await labelled("task.completed").click();
    await button("Create webhook").click();
    await page.waitForSelector("[data-secret]");
    const secret = await page.$eval("[data-secret]", (el) => el.textContent);
    check(secret?.startsWith("whsec_"), `secret ${secret}`);
    await page.bringToFront();
    await button("Copy").click();
    await page.waitForFunction(() => /Copied|Selected/.test(document.querySelector(".copy-status")?.textContent ?? ""));
    // Headless Chromium may refuse the clipboard; the button then selects the secret instead.
    const copied = (await text()).includes("Copied")
      ? await page.evaluate(() => navigator.clipboard.readText())
      : await page.evaluate(() => getSelection()?.toString());
    check(copied === secret, `the copy holds the secret (${copied})`);
    await page.waitForSelector("tr[data-webhook]");
    check(
      /task\.completed, task\.created|task\.created, task\.completed/.test(await text()),
      "both picked events listed",
    );
    await assertLabelled("webhooks");
    await shot("webhooks");

    step("send a test event and see it delivered (and verifiable with the copied secret)");
    await page.locator(`a[href^="#/webhooks/wh_"]`).click();
    await labelled("Test event type").wait();
    await page.select("select", "task.created");
    await button("Send test event").click();
    await waitForText("Test delivered");
    const first = receiver.received("dash").find((r) => r.headers["x-verk-test"] === "true");
    check(first, "the receiver got the test event");
    check(
      verifyStandard(first.body, first.headers, secret) &&
        verifyWebhook(first.body, first.headers["x-verk-signature"], secret),
      "the test delivery verifies with the copied secret",
    );

    step("a real event: its delivery appears in the log as succeeded");
    await api("POST", "/v1/projects", adminKey, { name: "Browser project" });
    const project = (await api("GET", "/v1/projects", adminKey)).data[0];
    // Not assigned to the owner: the webhook's filter keeps it out (the log stays at one delivery).
    await api("POST", "/v1/tasks", adminKey, { projectId: project.id, title: "Someone else's" });
    await api("POST", "/v1/tasks", adminKey, {
      projectId: project.id,
      title: "Ship the dashboard",
      assigneeId: org.owner.id,
    });
    await waitForStatus("succeeded", 1);

    step("the receiver fails: a real event's delivery retries, then fails");
    receiver.script("dash", [], { status: 500, body: "down for maintenance" });
    await api("POST", "/v1/tasks", adminKey, {
      projectId: project.id,
      title: "Watch it fail",
      assigneeId: org.owner.id,
    });
    await waitForStatus("failed", 1, 60_000);
    await page.click('details[data-status="failed"] summary');
    await page.waitForSelector('details[data-status="failed"] [data-attempts]');
    const attempts = await page.$$eval('details[data-status="failed"] [data-attempts] tbody tr', (rows) => rows.length);
    check(attempts === 7, `7 attempts shown, got ${attempts}`);
    check((await text()).includes("down for maintenance") || (await text()).includes("500"), "attempt errors shown");
    // The headers the page names are the ones the receiver got.
    const shownHeaders = await page.$$eval('details[data-status="failed"] [data-headers] tr', (rows) =>
      Object.fromEntries(
        rows.map((r) => [r.querySelector("th")?.textContent?.toLowerCase(), r.querySelector("td")?.textContent]),
      ),
    );
    const failedDelivery = await page.$eval('details[data-status="failed"]', (el) => el.dataset.delivery);
    const arrived = receiver.received("dash").find((r) => r.headers["x-verk-delivery"] === failedDelivery);
    check(arrived, "the receiver got the failed delivery");
    for (const name of ["x-verk-event", "x-verk-delivery", "webhook-id", "content-type"])
      check(
        shownHeaders[name] === arrived.headers[name],
        `${name}: shown ${shownHeaders[name]}, sent ${arrived.headers[name]}`,
      );
    // Each attempt's own signature: the first attempt's is exactly what the receiver got first.
    const firstSignature = await page.$$eval(
      'details[data-status="failed"] [data-attempt-headers="1"] [data-headers] tr',
      (rows) =>
        rows.find((r) => r.querySelector("th")?.textContent === "webhook-signature")?.querySelector("td")?.textContent,
    );
    check(firstSignature?.startsWith("v1,"), `a webhook-signature starting with v1, shown, got ${firstSignature}`);
    check(firstSignature === arrived.headers["webhook-signature"], "the shown signature is the one the receiver got");
    await page.waitForFunction(() => document.querySelector("[data-health]")?.textContent?.includes("Failing"));
    await shot("delivery-failed");

    step("the receiver recovers: redeliver, and the delivery succeeds");
    receiver.script("dash", [], { status: 200, body: "ok" });
    await page.locator('details[data-status="failed"] ::-p-aria([name="Redeliver"][role="button"])').click();
    await waitForStatus("succeeded", 2, 30_000);
    check((await text()).includes("Enabled"), "health back to Enabled");

    step("delivery log: filter by status; the 24 h chart counts the deliveries and shows their p50");
    await page.select("select", "task.created"); // the test-event picker stays first
    const [, statusSelect] = await page.$$("select");
    await statusSelect.select("pending");
    await button("Filter").click();
    await waitForText("0 deliveries shown");
    await statusSelect.select("succeeded");
    await button("Filter").click();
    await page.waitForFunction(() => {
      const shown = [...document.querySelectorAll("details[data-delivery]")].map((d) => d.dataset.status);
      return shown.length === 2 && shown.every((s) => s === "succeeded");
    });
    await statusSelect.select("");
    await button("Filter").click();
    await page.waitForFunction(() =>
      /[1-9]\d* succeeded, 0 failed/.test(document.querySelector("[data-chart-totals]")?.textContent ?? ""),
    );
    // The server's per-hour stats: a median response time in text, and a dot on the p50 line.
    await page.waitForFunction(() =>
      /p50 response time \d+ ms/.test(document.querySelector("[data-chart-p50]")?.textContent ?? ""),
    );
    check((await page.$$("svg.chart circle.p50")).length > 0, "the chart draws the p50 of the hours with attempts");

    step(
      "disable and re-enable the webhook (recovery is refused while disabled, with the reason); edit its description",
    );
    const recoverDisabled = () =>
      page.$eval('::-p-aria([name="Recover failed deliveries"][role="button"])', (el) => el.disabled);
    check(!(await recoverDisabled()), "recover offered for an enabled webhook");
    await button("Disable").click();
    await page.waitForFunction(() => document.querySelector("[data-health]")?.textContent?.includes("Disabled"));
    check(await recoverDisabled(), "recover disabled for a disabled webhook");
    await waitForText("The webhook is disabled: enable it");
    await button("Enable").click();
    await page.waitForFunction(() => document.querySelector("[data-health]")?.textContent?.includes("Enabled"));
    check(!(await recoverDisabled()), "recover offered again once enabled");
    // Disabling by hand is a failure alert (README "Alerts"): the page, opened again, shows it as the last one.
    await page.reload();
    await page.waitForFunction(() =>
      document.querySelector("[data-alert]")?.textContent?.includes("Disabled (manual)"),
    );
    await openEditor();
    const description = page.locator('details.card ::-p-aria([name="Description"][role="textbox"])');
    await description.fill("Edited in the dashboard");
    await button("Save changes").click();
    await waitForText("Edited in the dashboard");

    step("an outage fails two deliveries; Recover failed deliveries re-sends both, and the log shows them succeed");
    receiver.script("dash", [], { status: 503, body: "outage" });
    for (const title of ["During the outage 1", "During the outage 2"]) {
      await api("POST", "/v1/tasks", adminKey, { projectId: project.id, title, assigneeId: org.owner.id });
    }
    await waitForStatus("failed", 2, 60_000);
    const outage = await page.$$eval('details[data-status="failed"]', (els) => els.map((el) => el.dataset.delivery));
    check(outage.length === 2, `two failed deliveries listed: ${outage}`);
    receiver.script("dash", [], { status: 200, body: "ok" });
    const beforeRecovery = receiver.received("dash").length;
    // "Failed since" defaults to 24 h ago, which covers the outage; the confirm is accepted.
    await button("Recover failed deliveries").click();
    await page.waitForFunction(() =>
      document.querySelector("[data-recover-status]")?.textContent?.includes("2 queued, 0 remaining"),
    );
    // The control follows the pending count, then refreshes the log itself.
    await page.waitForFunction(
      () => document.querySelector("[data-recover-progress]")?.textContent?.startsWith("Done:"),
      { timeout: 30_000 },
    );
    await waitForStatus("succeeded", 4, 30_000);
    const resent = receiver
      .received("dash")
      .slice(beforeRecovery)
      .map((r) => r.headers["webhook-id"]);
    check(JSON.stringify(resent.sort()) === JSON.stringify([...outage].sort()), `re-sent once each: ${resent}`);
    // Opened directly, not by a click on its summary (the log above it may still be settling).
    await page.$eval(`details[data-delivery="${outage[0]}"]`, (details) => {
      details.open = true;
    });
    const recoveredAttempts = await page.waitForFunction(
      (id) => {
        const rows = [...document.querySelectorAll(`details[data-delivery="${id}"] [data-attempts] tbody tr`)];
        return rows.length > 0 && rows.map((r) => r.firstElementChild?.textContent).join(",");
      },
      {},
      outage[0],
    );
    check(
      (await recoveredAttempts.jsonValue()) === "1,2,3,4,5,6,7,8",
      `attempts after recovery: ${await recoveredAttempts.jsonValue()}`,
    );
    await shot("webhook-recover");

    step("rotate the secret: the new one shown once, the overlap window named");
    await button("Rotate secret").click();
    await waitForText("Previous secret");
    const rotated = await page.$eval("[data-secret]", (el) => el.textContent);
    check(rotated !== secret && rotated?.startsWith("whsec_"), "a new secret");
    check((await text()).includes("keeps signing beside it until"), "the overlap window is shown");
    await assertLabelled("webhook");
    await shot("webhook-detail");

    step("API keys: create one (shown once), rotate it (the old one still works), revoke it");
    await page.goto(`${base}/dashboard#/keys`);
    await textbox("Name").fill("CI deploys");
    await page.select("select", "write");
    await button("Create key").click();
    await page.waitForSelector("[data-secret]");
    const newKey = await page.$eval("[data-secret]", (el) => el.textContent);
    check(newKey?.startsWith("vk_live_"), "the new key is shown");
    await api("GET", "/v1/tasks", newKey);
    await button("Rotate CI deploys").click();
    await waitForText("Rotated CI deploys: the new key");
    const rotatedKey = await page.$eval("[data-secret]", (el) => el.textContent);
    check(rotatedKey?.startsWith("vk_live_") && rotatedKey !== newKey, "the rotated key is shown");
    await api("GET", "/v1/tasks", rotatedKey);
    await api("GET", "/v1/tasks", newKey); // the old one keeps working for the grace hour
    await button("Revoke CI deploys").click();
    await waitForText("Revoked CI deploys");
    const res = await fetch(`${base}/v1/tasks`, { headers: { Authorization: `Bearer ${rotatedKey}` } });
    check(res.status === 401, `the revoked key is refused (${res.status})`);
    await assertLabelled("API keys");
    await shot("api-keys");

    step("incoming-webhook credentials: create (key and curl shown once), use it, revoke");
    await page.goto(`${base}/dashboard#/incoming`);
    await textbox("Name").fill("Zapier support inbox");
    await button("Create credential").click();
    await page.waitForSelector("[data-curl]");
    const incomingKey = await page.$eval("[data-secret]", (el) => el.textContent);
    const curl = await page.$eval("[data-curl]", (el) => el.textContent);
    check(incomingKey?.startsWith("ik_live_") && curl?.includes(incomingKey), "the key and a curl using it");
    const intake = await fetch(`${base}/v1/webhooks/incoming/tasks`, {
      method: "POST",
      headers: { Authorization: `Bearer ${incomingKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "From the automation", projectId: project.id }),
    });
    check(intake.status === 201, `the new credential creates a task (${intake.status})`);
    await assertLabelled("incoming webhooks");
    await shot("incoming-webhooks");
    await button("Revoke Zapier support inbox").click();
    await waitForText("Revoked Zapier support inbox");

    step("event log: filter by type, open an event's JSON");
    await page.goto(`${base}/dashboard#/events`);
    await page.waitForSelector("details[data-event]");
    await page.select("select", "task.created");
    await button("Filter").click();
    await page.waitForFunction(() =>
      [...document.querySelectorAll("details[data-event] code")].every((c) => c.textContent === "task.created"),
    );
    await page.click("details[data-event] summary");
    await waitForText('"title": "Watch it fail"');
    await assertLabelled("event log");
    await shot("event-log");

    step("event log: resource type and actor are filtered by the API, not in the page");
    const [typeSelect, resourceTypeSelect] = await page.$$("select");
    await typeSelect.select("");
    await resourceTypeSelect.select("task");
    await textbox("Actor id").fill(org.apiKey.id);
    const filteredRequest = page.waitForRequest((r) => {
      const url = new URL(r.url());
      return (
        url.pathname === "/v1/events" &&
        url.searchParams.get("resourceType") === "task" &&
        url.searchParams.get("actorId") === org.apiKey.id
      );
    });
    await button("Filter").click();
    await filteredRequest;
    await page.waitForFunction(
      (keyId) => {
        const shown = [...document.querySelectorAll("details[data-event] summary")].map((el) => el.textContent ?? "");
        return shown.length > 0 && shown.every((t) => t.includes(" task task_") && t.includes(`key ${keyId}`));
      },
      {},
      org.apiKey.id,
    );

    step("375 px wide: nothing scrolls sideways");
    await page.setViewport({ width: 375, height: 800 });
    await page.goto(`${base}/dashboard#/webhooks`);
    await page.waitForSelector("tr[data-webhook]");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    check(overflow <= 375, `page is ${overflow} px wide at 375`);
    await shot("mobile");
    await page.setViewport({ width: 1280, height: 900 });

    step("sign out, sign in with a read key: no write actions offered");
    await button("Sign out").click();
    await labelled("API key").fill(readKey);
    await button("Sign in").click();
    await waitForText("Dana Owner <dana@example.com>");
    // A read key holds events:read and none of webhooks/keys/incoming: it lands on the event log.
    await page.waitForSelector("details[data-event]");
    check((await navLinks()).join() === "Event log", `nav offered to a read key: ${await navLinks()}`);
    await page.goto(`${base}/dashboard#/webhooks`);
    await page.waitForSelector('[data-needs="webhooks:read"]');
    await page.goto(`${base}/dashboard#/keys`);
    await page.waitForSelector('[data-needs="keys:read"]');
    await page.goto(`${base}/dashboard#/incoming`);
    await page.waitForSelector('[data-needs="incoming:read"]');
    await page.goto(`${base}/dashboard#/events`);
    await page.waitForSelector("details[data-event]");
    const buttons = await page.$$eval("button", (els) => els.map((el) => el.textContent));
    const writes = buttons.filter((b) => /create|revoke|rotate|delete|redeliver|send|disable|enable/i.test(b ?? ""));
    check(writes.length === 0, `write actions offered to a read key: ${writes}`);

    step("sign out, sign in with a webhooks:read + webhooks:write key: manage webhooks, nothing else offered");
    await button("Sign out").click();
    await labelled("API key").fill(webhooksKey.key);
    await button("Sign in").click();
    // Without members:read, GET /v1/users/me is 403: the header still signs the key in, shown by its prefix.
    await waitForText(`key ${webhooksKey.prefix}`);
    await page.waitForSelector("tr[data-webhook]");
    check((await navLinks()).join() === "Webhooks", `nav offered to a webhooks key: ${await navLinks()}`);
    await textbox("Endpoint URL").fill(`${receiver.url}/hook/webhooks-key`);
    await labelled("task.updated").click();
    await button("Create webhook").click();
    await page.waitForSelector("[data-secret]");
    await page.waitForFunction(() => document.querySelectorAll("tr[data-webhook]").length >= 2);
    // The first webhook filters on an assignee this key may not list: editing it keeps the filter.
    const filtered = (await api("GET", "/v1/webhooks", adminKey)).data.find((w) => w.url === hookUrl);
    await page.goto(`${base}/dashboard#/webhooks/${filtered.id}`);
    // A hash change: wait for the detail page itself (the list also shows health badges).
    await waitForText("Edit URL, description, events and filters");
    await openEditor();
    await page.locator('details.card ::-p-aria([name="Description"][role="textbox"])').fill("Edited by a webhooks key");
    await button("Save changes").click();
    await waitForText("Edited by a webhooks key");
    const edited = await api("GET", `/v1/webhooks/${filtered.id}`, adminKey);
    check(
      edited.filters.assigneeId === filtered.filters.assigneeId && edited.filters.assigneeId,
      `filters after the edit: ${JSON.stringify(edited.filters)}`,
    );
    for (const action of ["Send test event", "Rotate secret", "Delete", "Recover failed deliveries"]) {
      await button(action).wait();
    }
    await button("Disable").click();
    await page.waitForFunction(() => document.querySelector("[data-health]")?.textContent?.includes("Disabled"));
    await button("Enable").click();
    await page.waitForFunction(() => document.querySelector("[data-health]")?.textContent?.includes("Enabled"));
    for (const [section, permission] of [
      ["keys", "keys:read"],
      ["incoming", "incoming:read"],
      ["events", "events:read"],
    ]) {
      await page.goto(`${base}/dashboard#/${section}`);
      await page.waitForSelector(`[data-needs="${permission}"]`);
      const offered = await page.$$eval("main button", (els) => els.map((el) => el.textContent));
      check(offered.length === 0, `#/${section} offers ${offered} to a webhooks key`);
    }

    step("sign in with a webhooks:read key: the delivery log shows, no recover control");
    await button("Sign out").click();
    await labelled("API key").fill(webhooksReadKey.key);
    await button("Sign in").click();
    await waitForText(`key ${webhooksReadKey.prefix}`);
    await page.waitForSelector("tr[data-webhook]");
    await page.goto(`${base}/dashboard#/webhooks/${filtered.id}`);
    await page.waitForSelector("details[data-delivery]");
    check(!(await text()).includes("Recover failed deliveries"), "recover offered to a webhooks:read key");

    step("keyboard: the sign-in form works without a mouse");
    await button("Sign out").click();
    // The key field has focus after signing out: type and press Enter, no clicks.
    await labelled("API key").wait();
    await page.keyboard.type(adminKey);
    await page.keyboard.press("Enter");
    await waitForText("Dana Owner <dana@example.com>");

    step("/docs renders the API reference");
    await page.goto(`${base}/docs`);
    await page.waitForFunction(
      () => document.body.textContent.includes("/v1/webhooks") || document.body.textContent.includes("Webhooks"),
      {
        timeout: 20_000,
      },
    );
    await shot("docs");

    const unexpected = problems.filter(
      (p) => !/fonts\.scalar\.com|Failed to load resource: the server responded with a status of (401|403)/.test(p),
    );
    check(
      unexpected.every((p) => !/Content.Security.Policy/i.test(p) || /fonts\.scalar/.test(p)),
      `CSP violations: ${unexpected}`,
    );
    step(`✓ browser suite passed; screenshots in ${SHOTS}`);
  } catch (error) {
    await shot("failure").catch(() => {});
    console.error(`--- browser console ---\n${problems.join("\n")}`);
    console.error(`--- wrangler dev output (tail) ---\n${worker.output().slice(-4000)}`);
    throw error;
  }
}

main()
  .then(cleanup)
  .catch(async (error) => {
    console.error(`✗ ${error.stack ?? error}`);
    await cleanup();
    process.exit(1);
  });
