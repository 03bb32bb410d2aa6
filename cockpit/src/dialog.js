/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A modal dialog with a form, as Cockpit's dialogs behave: the action runs
 * with the buttons disabled, a failure shows the error in the dialog (the
 * D-Bus error name's last part and the service's sentence) and keeps what the
 * user typed; success closes it.
 */

import { h, alert } from "./dom.js";
import { describeError } from "./client.js";

const _ = cockpit.gettext;

let counter = 0;

function fieldId(name) {
    return "dialog-field-" + name;
}

function group(field, control) {
    return h("div", { class: "pf-v5-c-form__group" },
             h("div", { class: "pf-v5-c-form__group-label" },
               h("label", { class: "pf-v5-c-form__label", for: fieldId(field.name) },
                 h("span", { class: "pf-v5-c-form__label-text" }, field.label))),
             h("div", { class: "pf-v5-c-form__group-control" }, control,
               field.help && h("div", { class: "pf-v5-c-form__helper-text" },
                               h("div", { class: "pf-v5-c-helper-text" },
                                 h("div", { class: "pf-v5-c-helper-text__item" },
                                   h("span", { class: "pf-v5-c-helper-text__item-text" }, field.help))))));
}

function textControl(field) {
    const input = h("input", {
        id: fieldId(field.name),
        name: field.name,
        type: field.type,
        value: field.value ?? "",
        placeholder: field.placeholder,
        /* secrets are write-only: never filled in, never remembered by the browser */
        autocomplete: field.type === "password" ? "new-password" : "off",
        inputmode: field.type === "number" ? "numeric" : null,
    });
    return { node: h("span", { class: "pf-v5-c-form-control" }, input), read: () => input.value };
}

function selectControl(field) {
    const select = h("select", { id: fieldId(field.name), name: field.name },
                     field.options.map(o => h("option", { value: o.value, selected: o.value === field.value }, o.label)));
    if (field.onchange)
        select.addEventListener("change", () => field.onchange(select.value));
    return { node: h("span", { class: "pf-v5-c-form-control" }, select), read: () => select.value };
}

function checkboxControl(field) {
    const input = h("input", { class: "pf-v5-c-check__input", type: "checkbox", id: fieldId(field.name), name: field.name, checked: !!field.value });
    const node = h("div", { class: "pf-v5-c-check" }, input,
                   h("label", { class: "pf-v5-c-check__label", for: fieldId(field.name) }, field.label));
    return { node, read: () => input.checked, bare: true };
}

/* A list of checkboxes; reads as the array of checked values. */
function checklistControl(field) {
    const boxes = field.options.map((o, i) => {
        const id = fieldId(field.name) + "-" + i;
        const input = h("input", { class: "pf-v5-c-check__input", type: "checkbox", id, value: o.value, checked: (field.value || []).includes(o.value) });
        return { input, node: h("div", { class: "pf-v5-c-check" }, input, h("label", { class: "pf-v5-c-check__label", for: id }, o.label)) };
    });
    const node = h("div", { id: fieldId(field.name), role: "group", "aria-label": field.label },
                   boxes.length ? boxes.map(b => b.node) : h("span", { class: "ird-muted" }, field.empty || _("None available")));
    return { node, read: () => boxes.filter(b => b.input.checked).map(b => b.input.value) };
}

const CONTROLS = {
    text: textControl,
    password: textControl,
    number: textControl,
    select: selectControl,
    checkbox: checkboxControl,
    checklist: checklistControl,
};

/*
 * openDialog({ title, fields, submitLabel, variant, body, action }):
 * action(values) returns a promise; its rejection is shown in the dialog.
 */
export function openDialog({ title, fields = [], submitLabel, variant = "primary", body, action }) {
    const titleId = "dialog-title-" + (++counter);
    const readers = {};
    const controls = fields.map(field => {
        const control = CONTROLS[field.type](field);
        readers[field.name] = control.read;
        return control.bare ? h("div", { class: "pf-v5-c-form__group" }, control.node) : group(field, control.node);
    });
    const errorArea = h("div", { class: "ird-dialog-error" });
    const form = h("form", { class: "pf-v5-c-form", novalidate: true }, body, controls);
    const submit = h("button", { type: "submit", class: "pf-v5-c-button pf-m-" + variant }, submitLabel);
    const cancel = h("button", { type: "button", class: "pf-v5-c-button pf-m-link" }, _("Cancel"));
    const box = h("div", { class: "pf-v5-c-modal-box pf-m-md", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId },
                  h("header", { class: "pf-v5-c-modal-box__header" },
                    h("h1", { class: "pf-v5-c-modal-box__title", id: titleId }, title)),
                  h("div", { class: "pf-v5-c-modal-box__body" }, errorArea, form),
                  h("footer", { class: "pf-v5-c-modal-box__footer" }, submit, cancel));
    const backdrop = h("div", { class: "pf-v5-c-backdrop" }, h("div", { class: "pf-v5-l-bullseye" }, box));

    const close = () => {
        backdrop.remove();
        document.removeEventListener("keydown", onkey);
    };
    const onkey = event => {
        if (event.key === "Escape" && !submit.disabled)
            close();
    };

    const run = event => {
        event.preventDefault();
        const values = {};
        for (const [name, read] of Object.entries(readers))
            values[name] = read();
        submit.disabled = cancel.disabled = true;
        errorArea.textContent = "";
        Promise.resolve()
                .then(() => action(values))
                .then(close)
                .catch(ex => {
                    const { name, message } = describeError(ex);
                    errorArea.appendChild(alert("danger", name, message));
                    submit.disabled = cancel.disabled = false;
                });
    };

    form.addEventListener("submit", run);
    submit.addEventListener("click", run);
    cancel.addEventListener("click", close);
    document.addEventListener("keydown", onkey);
    document.body.appendChild(backdrop);
    const first = box.querySelector("input, select");
    if (first)
        first.focus();
    return { close, box };
}

/* A yes/no question before something that cannot be undone. */
export function confirmDialog(title, text, submitLabel, action) {
    return openDialog({ title, body: h("p", {}, text), submitLabel, variant: "danger", action });
}
