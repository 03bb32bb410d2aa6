/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building DOM nodes. Text always goes in as text nodes, never as markup, so
 * nothing the service or a user typed can become HTML.
 */

/* h("tr", { class: "x", "data-path": p, onclick: f }, child, [children], "text") */
export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
        if (value === undefined || value === null || value === false)
            continue;
        if (key.startsWith("on") && typeof value === "function")
            el.addEventListener(key.substring(2), value);
        else if (key === "text")
            el.textContent = value;
        else if (key === "value" || key === "checked")
            el[key] = value;
        else
            el.setAttribute(key, value === true ? "" : String(value));
    }
    append(el, children);
    return el;
}

function append(el, children) {
    for (const child of children) {
        if (child === undefined || child === null || child === false)
            continue;
        if (Array.isArray(child))
            append(el, child);
        else if (child instanceof Node)
            el.appendChild(child);
        else
            el.appendChild(document.createTextNode(String(child)));
    }
}

/* Replace what ROOT shows, keeping the element (and so its place and focus ring) itself. */
export function replaceChildren(root, ...children) {
    root.textContent = "";
    append(root, children);
}

export function button(label, onclick, { variant = "secondary", small = true, disabled = false, title, ...rest } = {}) {
    const classes = ["pf-v5-c-button", "pf-m-" + variant];
    if (small)
        classes.push("pf-m-small");
    return h("button", {
        type: "button",
        class: classes.join(" "),
        disabled,
        title,
        "aria-disabled": disabled ? "true" : null,
        onclick,
        ...rest,
    }, label);
}

/* A PatternFly label; COLOR is one of PatternFly's label colours or "" for grey. */
export function label(text, color, attrs) {
    return h("span", { class: "pf-v5-c-label pf-m-compact" + (color ? " pf-m-" + color : ""), ...attrs },
             h("span", { class: "pf-v5-c-label__content" },
               h("span", { class: "pf-v5-c-label__text" }, text)));
}

/* A table cell that knows its column's name, for the stacked layout on a narrow window. */
export function td(dataLabel, ...children) {
    return h("td", { class: "pf-v5-c-table__td", "data-label": dataLabel }, ...children);
}

export function th(text, attrs) {
    return h("th", { class: "pf-v5-c-table__th", scope: "col", ...attrs }, text);
}

/* A responsive table: columns become stacked label/value pairs below the md breakpoint. */
export function table(ariaLabel, headers, rows, attrs) {
    return h("table", { class: "pf-v5-c-table pf-m-compact pf-m-grid-md", role: "grid", "aria-label": ariaLabel, ...attrs },
             h("thead", { class: "pf-v5-c-table__thead" },
               h("tr", { class: "pf-v5-c-table__tr" }, headers.map(t => typeof t === "string" ? th(t) : t))),
             rows);
}

export function emptyRow(columns, text) {
    return h("tbody", { class: "pf-v5-c-table__tbody" },
             h("tr", { class: "pf-v5-c-table__tr" },
               h("td", { class: "pf-v5-c-table__td", colspan: columns },
                 h("div", { class: "ird-empty" }, text))));
}

export function card(title, actions, ...body) {
    const headingId = "card-" + title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
    return h("section", { class: "pf-v5-c-card", "aria-labelledby": headingId },
             h("div", { class: "pf-v5-c-card__header" },
               h("div", { class: "pf-v5-c-card__header-main" },
                 h("div", { class: "pf-v5-c-card__title" },
                   h("h2", { class: "pf-v5-c-card__title-text", id: headingId }, title))),
               h("div", { class: "pf-v5-c-card__actions" }, actions)),
             h("div", { class: "pf-v5-c-card__body" }, ...body));
}

/* An inline alert: the D-Bus error name's last part as title, the service's sentence below. */
export function alert(variant, title, description, onclose) {
    return h("div", { class: "pf-v5-c-alert pf-m-inline pf-m-" + variant, role: variant === "danger" ? "alert" : "status" },
             h("p", { class: "pf-v5-c-alert__title" },
               h("span", { class: "pf-v5-screen-reader" }, variant === "danger" ? cockpit.gettext("Error:") : cockpit.gettext("Note:")),
               h("span", { "data-field": "alert-title" }, title)),
             onclose && h("div", { class: "pf-v5-c-alert__action" },
                          h("button", { type: "button", class: "pf-v5-c-button pf-m-plain", "aria-label": cockpit.gettext("Close"), onclick: onclose }, "×")),
             description && h("div", { class: "pf-v5-c-alert__description" }, description));
}
