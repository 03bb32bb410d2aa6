/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dark mode as Cockpit's pages do it: the shell's choice in localStorage
 * ("shell:style": auto, light or dark), auto following the browser's
 * preference, and a change in the shell applied at once.
 */

const DARK_CLASS = "pf-v5-theme-dark";

function apply() {
    let style = "auto";
    try {
        style = window.localStorage.getItem("shell:style") || "auto";
    } catch (ex) {
        /* storage not available: follow the browser */
    }
    const dark = style === "dark" ||
        (style === "auto" && window.matchMedia("(prefers-color-scheme: dark)").matches);
    document.documentElement.classList.toggle(DARK_CLASS, dark);
}

export function followTheme() {
    apply();
    window.addEventListener("storage", event => {
        if (event.key === "shell:style")
            apply();
    });
    /* the shell tells its frames this way when the choice changes */
    window.addEventListener("cockpit-style", apply);
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", apply);
}
