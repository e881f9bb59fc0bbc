// Open one page in a headless Chromium that may reach nothing but this machine, and report what happened.
//
//   echo '{"url": "http://127.0.0.1:8000/index.html"}' | node tests/browser/probe.mjs
//
// Input (one JSON object on stdin):
//   url         the page (http(s) on 127.0.0.1 / localhost / [::1], or file://)
//   cookies     [{name, value, url}]           set before the page is opened
//   headers     {name: value}                  sent with every request
//   wait_for    CSS selector                   waited for after the network is idle
//   evaluate    JS expression                  evaluated in the page after load (a promise is awaited); its
//                                              JSON value is `result`
//   screenshot  path or null                   full-page PNG
//   viewport    {width, height}                default 1280x900
//   media_features [{name, value}]             emulated, e.g. [{"name": "prefers-color-scheme", "value": "dark"}]
//   timeout_ms  per step (navigation, wait_for, evaluate), default 30000
// Output (one JSON object on stdout):
//   {status, title, offsite_requests, failed_requests, console_errors, result, screenshot}
//   offsite_requests: every request to another host (or scheme) — aborted, never sent;
//   failed_requests: [{url, error}] for the local requests that failed or answered >= 400;
//   console_errors: console.error messages and uncaught exceptions.
// Exit status 0 with that object; 1 (message on stderr) when the page could not be opened at all.
// The browser: /usr/bin/chromium (Debian's), or $CHROMIUM_PATH; a fresh profile, removed afterwards.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import puppeteer from "puppeteer-core";

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
const LOCAL_SCHEMES = new Set(["file:", "data:", "blob:", "about:"]);

function isLocal(url) {
    let parsed;
    try {
        parsed = new URL(url);
    } catch {
        return false;
    }
    if (LOCAL_SCHEMES.has(parsed.protocol)) return true;
    return ["http:", "https:", "ws:", "wss:"].includes(parsed.protocol) && LOCAL_HOSTS.has(parsed.hostname);
}

async function readStdin() {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString("utf8").trim();
    if (!text) throw new Error("probe.mjs: expected one JSON object on stdin, got nothing");
    return JSON.parse(text);
}

async function main() {
    const options = await readStdin();
    if (typeof options.url !== "string" || !options.url) throw new Error("probe.mjs: `url` is required");
    const timeout = options.timeout_ms ?? 30000;
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "medtel-probe-"));
    const report = {
        status: null, title: null, offsite_requests: [], failed_requests: [], console_errors: [],
        result: null, screenshot: null,
    };
    let browser;
    try {
        browser = await puppeteer.launch({
            executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
            headless: true,
            userDataDir: profile,
            args: [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ], // and --user-data-dir=<profile>, from userDataDir
            timeout,
        });
        const page = await browser.newPage();
        page.setDefaultTimeout(timeout);
        await page.setViewport(options.viewport ?? { width: 1280, height: 900 });
        if (options.media_features) await page.emulateMediaFeatures(options.media_features);
        if (options.headers) await page.setExtraHTTPHeaders(options.headers);
        if (options.cookies?.length) {
            if (typeof browser.setCookie === "function") await browser.setCookie(...options.cookies);
            else await page.setCookie(...options.cookies);
        }
        const offsite = new Set();
        await page.setRequestInterception(true);
        page.on("request", (request) => {
            if (request.isInterceptResolutionHandled()) return;
            const url = request.url();
            if (isLocal(url)) return request.continue();
            offsite.add(url);
            if (!report.offsite_requests.includes(url)) report.offsite_requests.push(url);
            return request.abort("blockedbyclient");
        });
        page.on("requestfailed", (request) => {
            if (offsite.has(request.url())) return; // aborted by us: reported as offsite
            report.failed_requests.push({ url: request.url(), error: request.failure()?.errorText ?? "failed" });
        });
        page.on("response", (response) => {
            if (response.status() >= 400) {
                report.failed_requests.push({ url: response.url(), error: `HTTP ${response.status()}` });
            }
        });
        page.on("console", (message) => {
            if (message.type() === "error") report.console_errors.push(message.text());
        });
        page.on("pageerror", (error) => report.console_errors.push(String(error?.message ?? error)));

        const response = await page.goto(options.url, { waitUntil: "networkidle0", timeout });
        report.status = response ? response.status() : null;
        if (options.wait_for) await page.waitForSelector(options.wait_for, { timeout });
        if (options.evaluate) {
            report.result = await page.evaluate(options.evaluate);
            if (report.result === undefined) report.result = null;
        }
        report.title = await page.title();
        if (options.screenshot) {
            await page.screenshot({ path: options.screenshot, fullPage: true });
            report.screenshot = options.screenshot;
        }
    } finally {
        if (browser) await browser.close().catch(() => {});
        fs.rmSync(profile, { recursive: true, force: true });
    }
    process.stdout.write(JSON.stringify(report) + "\n");
}

main().catch((error) => {
    process.stderr.write(`probe.mjs: ${error?.stack ?? error}\n`);
    process.exit(1);
});
