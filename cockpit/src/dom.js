/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building DOM nodes. Text always goes in as text nodes, never as markup, so
 * nothing the service or a user typed can become HTML.
 * A redraw builds the new tree with h() and patch() carries it over onto the
 * nodes already shown: a node whose tag and key (data-path) stay the same is
 * kept and only what differs in it changes, so a button under the mouse (or
 * holding the focus) stays where it is while a signal updates its row.
 */

/* The event handlers of an element built by h(), behind one listener per event type, for patch() to hand over. */
const HANDLERS = Symbol("handlers");

function listen(el, type, fn) {
    if (!el[HANDLERS])
        el[HANDLERS] = {};
    if (!(type in el[HANDLERS]))
        el.addEventListener(type, event => el[HANDLERS][type](event));
    el[HANDLERS][type] = fn;
}

/* h("tr", { class: "x", "data-path": p, onclick: f }, child, [children], "text") */
export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
        if (value === undefined || value === null || value === false)
            continue;
        if (key.startsWith("on") && typeof value === "function")
            listen(el, key.substring(2), value);
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

function flatten(children, out = []) {
    for (const child of children) {
        if (child === undefined || child === null || child === false)
            continue;
        if (Array.isArray(child))
            flatten(child, out);
        else
            out.push(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return out;
}

function append(el, children) {
    for (const node of flatten(children))
        el.appendChild(node);
}

function key(node) {
    return node.nodeType === Node.ELEMENT_NODE ? node.getAttribute("data-path") : null;
}

function sameKind(a, b) {
    return a.nodeType === b.nodeType && a.nodeName === b.nodeName && key(a) === key(b);
}

function patchAttributes(shown, wanted) {
    for (const name of shown.getAttributeNames()) {
        if (!wanted.hasAttribute(name))
            shown.removeAttribute(name);
    }
    for (const name of wanted.getAttributeNames()) {
        const value = wanted.getAttribute(name);
        if (shown.getAttribute(name) === value)
            continue;
        /* Cockpit's content security policy refuses a style attribute, not the CSSOM */
        if (name === "style")
            shown.style.cssText = wanted.style.cssText;
        else
            shown.setAttribute(name, value);
    }
}

function patchHandlers(shown, wanted) {
    const handlers = wanted[HANDLERS] || {};
    for (const type of Object.keys(shown[HANDLERS] || {})) {
        if (!(type in handlers))
            shown[HANDLERS][type] = () => {};
    }
    for (const [type, fn] of Object.entries(handlers))
        listen(shown, type, fn);
}

/* Make SHOWN look like WANTED, a node of the same kind, keeping SHOWN and whichever of its children stay. */
function patchNode(shown, wanted) {
    if (shown.nodeType !== Node.ELEMENT_NODE) {
        if (shown.nodeValue !== wanted.nodeValue)
            shown.nodeValue = wanted.nodeValue;
        return;
    }
    patchAttributes(shown, wanted);
    patchHandlers(shown, wanted);
    patchChildren(shown, [...wanted.childNodes]);
}

/* A keyed node shown further on, of the kind of WANTED: a row that moved. */
function findMoved(parent, from, wanted) {
    if (key(wanted) === null)
        return null;
    for (let node = parent.childNodes[from]; node; node = node.nextSibling) {
        if (sameKind(node, wanted))
            return node;
    }
    return null;
}

function patchChildren(parent, wanted) {
    wanted.forEach((next, i) => {
        const current = parent.childNodes[i] || null;
        const kept = current && sameKind(current, next) ? current : findMoved(parent, i + 1, next);
        if (kept) {
            if (kept !== current)
                parent.insertBefore(kept, current);
            patchNode(kept, next);
        } else {
            parent.insertBefore(next, current);
        }
    });
    while (parent.childNodes.length > wanted.length)
        parent.lastChild.remove();
}

/* Show CHILDREN in ROOT (keeping ROOT itself), keeping the nodes shown that stay the same kind. */
export function patch(root, ...children) {
    patchChildren(root, flatten(children));
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
