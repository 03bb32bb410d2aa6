// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Debian's chromium, headless, driven over the DevTools protocol with
// puppeteer-core. Every wait is for a DOM condition, with a deadline.
// The page redraws on every signal: nothing here holds an element handle
// across an await. Reads find and read in one evaluation in the page; clicks
// go through puppeteer's locators, which find the element again (enabled,
// visible, not moving) when it was replaced before the click landed.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

// puppeteer-core comes from cockpit/node_modules (npm ci in cockpit/), IRD_NPM_PROJECT names that directory
const require = createRequire(path.join(process.env.IRD_NPM_PROJECT || ".", "resolve-from-here.js"));
const puppeteer = require("puppeteer-core");

export const WAIT_MS = 15000;
const PAGE_PATH = "/cockpit/@localhost/iscsi-replication/index.html";

export async function launch() {
    return puppeteer.launch({
        executablePath: process.env.IRD_CHROMIUM || "/usr/bin/chromium",
        headless: true,
        // root in a container: chromium's sandbox needs user namespaces it may not get
        args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=en-US"],
    });
}

// A new tab on the page served by BASE, failing the test on any script error.
export async function openPage(browser, base, { width = 1280, height = 900 } = {}) {
    const page = await browser.newPage();
    page.errors = [];
    page.on("pageerror", ex => page.errors.push(ex.message));
    page.on("console", message => {
        if (message.type() === "error" && !/favicon/.test(message.text()))
            page.errors.push("console: " + message.text());
    });
    await page.setViewport({ width, height });
    await page.goto(base + PAGE_PATH);
    await page.waitForSelector("body[data-loaded]", { timeout: WAIT_MS });
    // set once: a reload would lose it
    await page.evaluate(() => { window.irdLoadMarker = true });
    return page;
}

export async function assertNotReloaded(page) {
    if (!await page.evaluate(() => window.irdLoadMarker === true))
        throw new Error("the page was reloaded");
}

export function assertNoScriptErrors(page) {
    if (page.errors.length)
        throw new Error("script errors on the page:\n" + page.errors.join("\n"));
}

export async function waitFor(page, selector, options = {}) {
    return page.waitForSelector(selector, { timeout: WAIT_MS, ...options });
}

// Wait until the text of SELECTOR contains TEXT; returns the text.
export async function waitForText(page, selector, text) {
    const handle = await page.waitForFunction((sel, want) => {
        const el = document.querySelector(sel);
        return el && el.textContent.includes(want) ? el.textContent : false;
    }, { timeout: WAIT_MS }, selector, text);
    return handle.jsonValue();
}

// The text of the element SELECTOR finds, found and read in one step in the page.
export async function text(page, selector) {
    const value = await page.evaluate(sel => document.querySelector(sel)?.textContent.trim() ?? null, selector);
    if (value === null)
        throw new Error("nothing on the page matches " + selector);
    return value;
}

// The object path (data-path) of the row SELECTOR finds, found and read in one step.
export async function pathOf(page, selector) {
    const value = await page.evaluate(sel => document.querySelector(sel)?.dataset.path ?? null, selector);
    if (value === null)
        throw new Error("no row with a path matches " + selector);
    return value;
}

// The paths of all rows SELECTOR finds, in one step.
export async function pathsOf(page, selector) {
    return page.evaluate(sel => [...document.querySelectorAll(sel)].map(el => el.dataset.path), selector);
}

export async function exists(page, selector) {
    return page.evaluate(sel => document.querySelector(sel) !== null, selector);
}

// Click SELECTOR once it is enabled, finding it again if a redraw replaced it.
export async function click(page, selector) {
    await page.locator(selector).setTimeout(WAIT_MS).click();
}

// Fill the open dialog's fields: { Name: "x" } for text, { "@Select": value } selects, [ "path" ] checks boxes.
export async function fillDialog(page, fields) {
    await waitFor(page, ".pf-v5-c-modal-box");
    for (const [name, value] of Object.entries(fields)) {
        const selector = "#dialog-field-" + name;
        if (Array.isArray(value)) {
            for (const v of value)
                await click(page, `${selector} input[value="${v}"]`);
        } else if (typeof value === "boolean") {
            const checked = await page.$eval(selector, el => el.checked);
            if (checked !== value)
                await click(page, selector);
        } else if (await page.$eval(selector, el => el.tagName) === "SELECT") {
            await page.select(selector, value);
        } else {
            await page.$eval(selector, el => { el.value = "" });
            await page.type(selector, value);
        }
    }
}

export async function submitDialog(page) {
    await click(page, ".pf-v5-c-modal-box__footer button[type=submit]");
}

export async function dialogClosed(page) {
    await waitFor(page, ".pf-v5-c-backdrop", { hidden: true });
}

// Screenshots of an earlier run would mislead a reviewer: start with none.
export function clearScreenshots() {
    const dir = process.env.IRD_SCREENSHOT_DIR;
    if (dir && fs.existsSync(dir)) {
        for (const file of fs.readdirSync(dir).filter(f => f.endsWith(".png")))
            fs.rmSync(path.join(dir, file));
    }
}

export async function screenshot(page, name) {
    const dir = process.env.IRD_SCREENSHOT_DIR;
    if (!dir)
        return null;
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, name + ".png");
    await page.screenshot({ path: file, fullPage: true });
    return file;
}
