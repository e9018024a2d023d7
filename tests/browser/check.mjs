// The web site in a real browser: headless Chromium (the distribution's, not one Playwright
// downloads) asks a question through the home page form, follows the live progress page, and
// checks the finished report: verdict, summary, citation links, no script or CSP errors.
//
//   node tests/browser/check.mjs BASE_URL OUT_DIR
//
// Writes OUT_DIR/home.png and OUT_DIR/fact-check.png (full-page screenshots), and
// OUT_DIR/failure.png when a step fails. Exits 0 when every step passed, 1 otherwise, 2 on bad
// arguments. Run by crates/cli/tests/browser.rs, which starts the server and keeps its single
// worker busy so that the progress page is reliably seen; run alone, the progress step needs the
// same (a check that is not finished the moment the form is submitted).
//
// Environment: CHROMIUM overrides the browser (default /usr/bin/chromium).

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium } from "playwright-core";

const QUESTION = "The measles vaccine causes autism.";
const REPORT_TIMEOUT_MS = 60_000;
// A last resort so that a wedged browser never hangs the test run; every step has its own
// shorter timeout.
const WATCHDOG_MS = 180_000;

// Without the background-networking flags Chromium tries to reach Google's services at start-up
// and hangs on a machine without network.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

class Failure extends Error {}

function expect(condition, message) {
  if (!condition) throw new Failure(message);
}

function log(message) {
  console.log(`check.mjs: ${message}`);
}

async function main() {
  const [base, outDir] = process.argv.slice(2);
  if (!base || !outDir) {
    console.error("usage: node tests/browser/check.mjs BASE_URL OUT_DIR");
    return 2;
  }
  const baseUrl = base.replace(/\/+$/, "");
  await mkdir(outDir, { recursive: true });

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
  let page;
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();

    // Script errors and CSP violations: Chromium reports a blocked resource or inline script
    // ("Refused to ... because it violates the following Content Security Policy directive")
    // as a console error, so every console error counts (the pages declare an empty icon, so
    // not even the browser's own /favicon.ico request fails).
    const errors = [];
    page.on("console", (msg) => {
      if (msg.type() !== "error") return;
      errors.push(`console error: ${msg.text()} (${msg.location().url || "?"})`);
    });
    page.on("pageerror", (err) => errors.push(`uncaught exception: ${err.message}`));

    // What the progress page shows, reported from inside the page: a snapshot when a page with
    // #progress loads, then every item /static/app.js appends from the server-sent events. The
    // binding and the init script survive the page's reloads, so nothing depends on polling
    // fast enough to catch a page that is only up for a second or two.
    const progress = [];
    await page.exposeBinding("__factuallyProgress", ({ frame }, event) => {
      progress.push({ ...event, url: frame.url() });
    });
    await page.addInitScript(() => {
      document.addEventListener("DOMContentLoaded", () => {
        const list = document.getElementById("progress");
        if (!list) return;
        const status = document.querySelector(".status");
        window.__factuallyProgress({
          kind: "page",
          status: status ? status.textContent.trim() : "",
          items: list.children.length,
        });
        new MutationObserver((mutations) => {
          for (const m of mutations) {
            for (const node of m.addedNodes) {
              window.__factuallyProgress({ kind: "item", text: node.textContent });
            }
          }
        }).observe(list, { childList: true });
      });
    });

    // Home page.
    const home = await page.goto(`${baseUrl}/`);
    expect(home && home.status() === 200, `GET / answered ${home && home.status()}`);
    const input = page.getByLabel("Ask a question or state a claim");
    await input.waitFor();
    await page.screenshot({ path: join(outDir, "home.png"), fullPage: true });
    log("home page ok, home.png written");

    // Ask through the form: a POST answered by 303 to the check's page.
    await input.fill(QUESTION);
    await Promise.all([
      page.waitForURL(/\/fact-checks\/[^/]+\/[^/]+$/, { waitUntil: "commit" }),
      page.getByRole("button", { name: "Check", exact: true }).click(),
    ]);
    const checkUrl = page.url();
    log(`submitted; landed on ${checkUrl}`);

    // The report: the progress page has the same h1, so wait for the verdict badge too (or the
    // failed-check notice, to say why instead of timing out); the locator keeps looking across
    // app.js's reload.
    await page
      .locator('.verdict, p.notice[role="alert"]')
      .first()
      .waitFor({ timeout: REPORT_TIMEOUT_MS });
    await page.waitForLoadState("load");
    const notice = page.locator('p.notice[role="alert"]');
    if ((await notice.count()) > 0) {
      throw new Failure(`the check failed: ${(await notice.first().textContent()).trim()}`);
    }
    expect(
      page.url() === checkUrl,
      `the report is at ${page.url()}, not the page the form led to (${checkUrl})`,
    );
    const h1 = (await page.locator("h1").first().textContent()).trim();
    expect(h1.startsWith("Fact check:"), `the report's heading is "${h1}"`);
    const verdict = (await page.locator(".verdict").first().textContent()).trim();
    expect(verdict.length > 0, "the verdict badge is empty");
    log(`report: "${h1}", verdict "${verdict}"`);

    // The progress page came first, and its live updates arrived.
    const pages = progress.filter((p) => p.kind === "page");
    const items = progress.filter((p) => p.kind === "item");
    expect(
      pages.length > 0,
      "never saw the progress page (#progress) before the report: was the check already " +
        "finished when the form was submitted? (keep the worker busy with other checks first)",
    );
    expect(
      pages.every((p) => p.url === checkUrl),
      `a progress page was shown at an unexpected address: ${JSON.stringify(pages)}`,
    );
    const first = pages[0];
    expect(
      /Waiting for a free worker|Checking/.test(first.status),
      `the progress page's status reads "${first.status}"`,
    );
    // A check still queued when its page was rendered has every progress message ahead of it,
    // so they must come through the event stream; one already running may have had them all
    // rendered into the page.
    if (first.status.startsWith("Waiting")) {
      expect(
        items.length > 0,
        "the progress page was waiting for a worker but no progress items arrived live " +
          "(server-sent events or app.js not working?)",
      );
    }
    log(
      `progress page seen (status "${first.status}", ${first.items} rendered item(s), ` +
        `${items.length} live item(s): ${items.map((i) => JSON.stringify(i.text)).join(", ")})`,
    );

    // The summary section says something.
    const summary = page.locator("section", {
      has: page.locator("h2", { hasText: "Summary of the results" }),
    });
    expect((await summary.count()) === 1, "no single 'Summary of the results' section");
    const summaryText = await summary.evaluate((s) =>
      Array.from(s.children)
        .filter((c) => c.tagName !== "H2")
        .map((c) => c.textContent)
        .join(" ")
        .trim(),
    );
    expect(summaryText.length > 0, "the summary section is empty");
    log(`summary: ${summaryText.slice(0, 120)}${summaryText.length > 120 ? "…" : ""}`);

    // The first citation jumps to its source in the list.
    const citation = page.locator('a[href^="#source-"]').first();
    expect((await citation.count()) === 1, "the report has no citation links");
    const target = await citation.getAttribute("href");
    await citation.click();
    await page.waitForFunction((hash) => window.location.hash === hash, target);
    const source = page.locator(`li${target}`);
    expect((await source.count()) === 1, `citation ${target} points at no li${target}`);
    expect(await source.isVisible(), `li${target} is not visible`);
    const inView = await source.evaluate((el) => {
      const r = el.getBoundingClientRect();
      return r.bottom > 0 && r.top < window.innerHeight;
    });
    expect(inView, `li${target} was not scrolled into view by the citation link`);
    log(`citation ${target} leads to its source`);

    await page.screenshot({ path: join(outDir, "fact-check.png"), fullPage: true });
    log("fact-check.png written");

    expect(errors.length === 0, `the browser reported errors:\n  ${errors.join("\n  ")}`);
    log("no console errors or CSP violations");
    return 0;
  } catch (err) {
    console.error(`check.mjs: FAILED: ${err instanceof Failure ? err.message : err.stack || err}`);
    if (page) {
      console.error(`check.mjs: the page was ${page.url()}`);
      await page
        .screenshot({ path: join(outDir, "failure.png"), fullPage: true })
        .then(() => console.error(`check.mjs: screenshot at ${join(outDir, "failure.png")}`))
        .catch(() => {});
    }
    return 1;
  } finally {
    await browser.close();
  }
}

const watchdog = setTimeout(() => {
  console.error(`check.mjs: FAILED: still running after ${WATCHDOG_MS / 1000} s; giving up`);
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // Only launching the browser or creating OUT_DIR get here.
    console.error(`check.mjs: FAILED: ${err.stack || err}`);
    process.exitCode = 1;
  },
);
