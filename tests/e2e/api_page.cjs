// Drives the web page of a running `dev` session in headless Chromium (playwright-core):
// sees the artifact built and the Deployment healthy, turns automatic builds off with the
// page's switch, says READY on stdout and waits for a line on stdin (the test edits a source
// meanwhile), clicks Build, sees the new build, and takes a screenshot.
// Usage: node api_page.cjs <url> <image> <screenshot.png>  (PLAYWRIGHT_CORE: the module's path)
"use strict";
const { chromium } = require(process.env.PLAYWRIGHT_CORE);
const [url, image, screenshot] = process.argv.slice(2);
const readline = require("readline");

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors = [];
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    await page.goto(url);
    const row = page.locator(`tr[data-artifact="${image}"]`);
    await row.and(page.locator('[data-state="built"], [data-state="cached"]')).waitFor({ timeout: 30000 });
    await page.locator('tr[data-resource^="Deployment/web"][data-state="healthy"]').waitFor({ timeout: 30000 });
    await page.locator("#connection", { hasText: "live" }).waitFor({ timeout: 10000 });
    await page.locator("#forwards a").first().waitFor({ timeout: 30000 });
    const first = await row.getAttribute("data-built-at");

    // Automatic builds off through the page's switch; the API's state follows.
    await page.locator("#auto-build").waitFor();
    if (!(await page.isChecked("#auto-build"))) throw new Error("auto build should start on");
    await page.click("#auto-build");
    await page.waitForFunction(async () => !(await (await fetch("/v2/state")).json()).buildState.autoTrigger);
    console.log("READY");
    const input = readline.createInterface({ input: process.stdin });
    await new Promise((resolve) => input.once("line", resolve));
    input.close();

    // The edited source waits for the button.
    await page.waitForTimeout(2000);
    if ((await row.getAttribute("data-built-at")) !== first) throw new Error("built without the button");
    await page.click("#run-build");
    await page.waitForFunction(
      ([image, first]) => {
        const r = document.querySelector(`tr[data-artifact="${image}"]`);
        return r && r.dataset.state === "built" && r.dataset.builtAt !== first;
      },
      [image, first],
      { timeout: 120000 },
    );
    // The iteration the button started ends with the new pod healthy.
    await page.waitForFunction(() => {
      const r = document.querySelector('tr[data-resource^="Deployment/web"]');
      return document.getElementById("iteration").textContent === "iteration 1" && r && r.dataset.state === "healthy";
    }, null, { timeout: 120000 });
    // Logs filtered by resource and container.
    await page.locator("#logs", { hasText: "serving version 2" }).waitFor({ timeout: 30000 });
    await page.selectOption("#log-resource", "Deployment/web");
    await page.selectOption("#log-container", "web");
    await page.locator("#logs", { hasText: "serving version" }).waitFor({ timeout: 5000 });
    await page.screenshot({ path: screenshot, fullPage: true });
    if (consoleErrors.length) throw new Error("page errors: " + consoleErrors.join("; "));
    console.log("DONE " + JSON.stringify({ first, second: await row.getAttribute("data-built-at") }));
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
