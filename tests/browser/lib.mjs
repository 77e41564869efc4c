// Shared helpers of the browser tests: Chromium through playwright-core (installed under the
// cache dir by scripts/lib.sh setup_playwright, found through PLAYWRIGHT_DIR).
import { createRequire } from "node:module";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(join(process.env.PLAYWRIGHT_DIR, "node_modules") + "/");
const { chromium } = require("playwright-core");

/** A fresh headless Chromium profile; `locale` sets navigator.language. */
export async function launch(locale = "zh-CN") {
  const profile = mkdtempSync(join(tmpdir(), "ba-chromium-"));
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    locale,
    viewport: { width: 1280, height: 860 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

let failures = 0;
/** Records one check; a failed one is printed and fails the run at the end. */
export function check(ok, what, detail = "") {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${ok || !detail ? "" : ` — ${detail}`}`);
  if (!ok) failures++;
}
export function failed() {
  return failures;
}

/** Saves a full-page screenshot under SHOTS_DIR and prints its path. */
export async function shot(page, name) {
  const path = join(process.env.SHOTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}
