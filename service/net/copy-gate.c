/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gate of a cycle (copy.h, CopyParameters.unconfirm).
 *
 * A confirmed hash says what the copy holds. A chunk that differs from it
 * is about to change that, and the hash must stop saying so before the
 * write can land: were the write sent first, a crash after it reached the
 * copy but before a SYNCHRONIZE CACHE confirmed it would leave the old hash
 * standing for bytes the copy no longer holds; should the source go back
 * to the old bytes, every later cycle would skip the chunk and the copy
 * would keep the newer ones for good.
 *
 * So such a chunk waits in its slot (one of the fixed buffers: memory stays
 * bounded) while the caller unconfirms it durably. The chunks gated in one
 * turn of the loop go to the caller together, under one ticket, so that
 * one stored change covers them; copy_release() of that ticket sends their
 * writes. Chunks with no confirmed hash (a first cycle) never wait here.
 */

#include "copy-internal.h"

void copy_gate(CopySlot *slot) {
        Copy *c = slot->copy;

        slot->state = SLOT_GATED;
        c->progress.chunks_gated++;
        /* Handed over from the notification source: not from inside libiscsi, and together with the others. */
        copy_notify(c);
}

bool copy_deliver_gated(Copy *c) {
        uint64_t ticket = c->last_ticket + 1;
        size_t n = 0;

        for (unsigned i = 0; i < c->n_slots; i++) {
                CopySlot *slot = &c->slots[i];

                if (slot->state != SLOT_GATED)
                        continue;
                slot->state = SLOT_UNCONFIRMING;
                slot->ticket = ticket;
                c->gated[n++] = slot->chunk;
        }
        if (n == 0)
                return false;
        c->last_ticket = ticket;
        /* Go on next time round; the callee may free the copy. */
        copy_notify(c);
        c->p.unconfirm(c, ticket, c->gated, n, c->p.userdata);
        return true;
}

/**
 * copy_release() - let the writes of unconfirmed chunks go
 * @c:      the copy; NULL is fine
 * @ticket: what unconfirm was called with; earlier tickets are released too
 *
 * The caller has stored the chunks of ticket as unconfirmed, durably.
 */
void copy_release(Copy *c, uint64_t ticket) {
        if (!c || !c->running || c->finished)
                return;
        for (unsigned i = 0; i < c->n_slots; i++) {
                CopySlot *slot = &c->slots[i];

                if (slot->state == SLOT_UNCONFIRMING && slot->ticket <= ticket)
                        copy_queue_write(slot);
        }
}
