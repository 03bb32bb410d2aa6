/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/model: counting running jobs, job states and what RequestStateChange does to them. */

#include <errno.h>
#include <glib.h>

#include "model-fixture.h"
#include "util/strutil.h"

/* ---- jobs ---- */

static void test_count_running_jobs(void) {
        Model *m = model_new("local");
        const struct {
                JobState state;
                uint32_t uid;
        } jobs[] = {
                { JOB_STATE_NEW, 1000 },
                { JOB_STATE_RUNNING, 1000 },
                { JOB_STATE_SUSPENDED, 1001 },
                { JOB_STATE_RUNNING, 0 },
                { JOB_STATE_COMPLETED, 1000 },
                { JOB_STATE_TERMINATED, 1000 },
                { JOB_STATE_KILLED, 1001 },
                { JOB_STATE_EXCEPTION, 0 },
        };

        g_assert_cmpuint(model_count_running_jobs(m, false, 0), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(jobs); i++)
                g_assert_cmpint(model_add_job(m, new_job(i + 1, jobs[i].state, jobs[i].uid)), ==, 0);

        g_assert_cmpuint(model_count_running_jobs(m, false, 0), ==, 4);
        g_assert_cmpuint(model_count_running_jobs(m, false, 4242), ==, 4);
        g_assert_cmpuint(model_count_running_jobs(m, true, 1000), ==, 2);
        g_assert_cmpuint(model_count_running_jobs(m, true, 1001), ==, 1);
        g_assert_cmpuint(model_count_running_jobs(m, true, 0), ==, 1);
        g_assert_cmpuint(model_count_running_jobs(m, true, 4242), ==, 0);

        model_get_job(m, 2)->state = JOB_STATE_COMPLETED;
        g_assert_cmpuint(model_count_running_jobs(m, false, 0), ==, 3);
        g_assert_cmpuint(model_count_running_jobs(m, true, 1000), ==, 1);

        model_free(m);
}

static const JobState all_states[] = {
        JOB_STATE_NEW, JOB_STATE_RUNNING, JOB_STATE_SUSPENDED, JOB_STATE_COMPLETED,
        JOB_STATE_TERMINATED, JOB_STATE_KILLED, JOB_STATE_EXCEPTION,
};

static void test_job_state_names(void) {
        g_assert_false(job_state_is_finished(JOB_STATE_NEW));
        g_assert_false(job_state_is_finished(JOB_STATE_RUNNING));
        g_assert_false(job_state_is_finished(JOB_STATE_SUSPENDED));
        g_assert_true(job_state_is_finished(JOB_STATE_COMPLETED));
        g_assert_true(job_state_is_finished(JOB_STATE_TERMINATED));
        g_assert_true(job_state_is_finished(JOB_STATE_KILLED));
        g_assert_true(job_state_is_finished(JOB_STATE_EXCEPTION));

        g_assert_cmpstr(job_state_to_string(JOB_STATE_NEW), ==, "new");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_RUNNING), ==, "running");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_SUSPENDED), ==, "suspended");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_COMPLETED), ==, "completed");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_TERMINATED), ==, "terminated");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_KILLED), ==, "killed");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_EXCEPTION), ==, "exception");
        g_assert_cmpstr(job_state_to_string((JobState) 3), ==, "unknown");
}

/* What RequestStateChange(requested) does to a job in state: the new state, or the error. */
static int expected_transition(JobState state, uint16_t requested, JobState *ret) {
        bool finished = job_state_is_finished(state);

        switch (requested) {
        case 2:
                if (state != JOB_STATE_SUSPENDED)
                        return -EBADRQC;
                *ret = JOB_STATE_RUNNING;
                return 0;
        case 3:
                if (state != JOB_STATE_RUNNING && state != JOB_STATE_NEW)
                        return -EBADRQC;
                *ret = JOB_STATE_SUSPENDED;
                return 0;
        case 4:
                if (finished)
                        return -EBADRQC;
                *ret = JOB_STATE_TERMINATED;
                return 0;
        case 5:
                if (finished)
                        return -EBADRQC;
                *ret = JOB_STATE_KILLED;
                return 0;
        case 6:
                return -EOPNOTSUPP;
        default:
                return -EINVAL;
        }
}

static void test_job_plan_state_change(void) {
        const uint16_t requests[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 32767, 32768, 65535 };

        for (size_t s = 0; s < G_N_ELEMENTS(all_states); s++)
                for (size_t r = 0; r < G_N_ELEMENTS(requests); r++) {
                        Job *j = new_job(7, all_states[s], 0);
                        ReplError e = REPL_ERROR_INIT;
                        JobState want = (JobState) 0, got = (JobState) 0;
                        int expected = expected_transition(all_states[s], requests[r], &want);
                        int ret = job_plan_state_change(j, requests[r], &got, &e);

                        if (ret != expected)
                                g_error("state %d, request %u: got %d, expected %d",
                                        all_states[s], requests[r], ret, expected);
                        g_assert_cmpint(e.error, ==, ret);
                        if (ret == 0) {
                                g_assert_cmpint(got, ==, want);
                                g_assert_cmpstr(e.message, ==, "");
                        } else {
                                g_assert_cmpint(got, ==, 0);       /* untouched */
                                g_assert_cmpuint(strlen(e.message), >, 0);
                        }
                        /* Planning does not change the job. */
                        g_assert_cmpint(j->state, ==, all_states[s]);
                        job_free(j);
                }
}

static void test_job_plan_state_change_messages(void) {
        Job *j = new_job(7, JOB_STATE_COMPLETED, 0);
        ReplError e = REPL_ERROR_INIT;
        JobState st;

        g_assert_cmpint(job_plan_state_change(j, 2, &st, &e), ==, -EBADRQC);
        g_assert_cmpstr(e.message, ==, "Job 7 is completed and cannot be started.");
        repl_error_clear(&e);
        g_assert_cmpint(job_plan_state_change(j, 3, &st, &e), ==, -EBADRQC);
        g_assert_cmpstr(e.message, ==, "Job 7 is completed and cannot be suspended.");
        repl_error_clear(&e);
        g_assert_cmpint(job_plan_state_change(j, 4, &st, &e), ==, -EBADRQC);
        g_assert_cmpstr(e.message, ==, "Job 7 is completed already.");
        repl_error_clear(&e);
        g_assert_cmpint(job_plan_state_change(j, 6, &st, &e), ==, -EOPNOTSUPP);
        g_assert_cmpstr(e.message, ==, "RequestedState 6 (Service) is not supported.");
        repl_error_clear(&e);
        g_assert_cmpint(job_plan_state_change(j, 7, &st, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "RequestedState 7 is not a job state that can be requested.");

        /* Without an error to fill, only the code comes back. */
        g_assert_cmpint(job_plan_state_change(j, 0, &st, NULL), ==, -EINVAL);
        job_free(j);
}

static void test_job_operational_status(void) {
        const struct {
                JobState state;
                size_t n;
                uint16_t values[2];
        } cases[] = {
                { JOB_STATE_NEW, 1, { 8 } },            /* Starting */
                { JOB_STATE_RUNNING, 1, { 2 } },        /* OK */
                { JOB_STATE_SUSPENDED, 2, { 2, 10 } },  /* OK, Stopped */
                { JOB_STATE_COMPLETED, 2, { 2, 17 } },  /* OK, Completed */
                { JOB_STATE_TERMINATED, 2, { 6, 17 } }, /* Error, Completed */
                { JOB_STATE_KILLED, 2, { 6, 17 } },
                { JOB_STATE_EXCEPTION, 2, { 6, 17 } },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                Job *j = new_job(1, cases[i].state, 0);
                uint16_t v[2] = { 0xffff, 0xffff };
                size_t n = job_operational_status(j, v);

                g_assert_cmpuint(n, ==, cases[i].n);
                for (size_t k = 0; k < n; k++)
                        g_assert_cmpuint(v[k], ==, cases[i].values[k]);
                /* Every finished job reports 17 Completed. */
                g_assert_true(job_state_is_finished(cases[i].state) == (n == 2 && v[1] == 17));
                job_free(j);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/model/job/count-running", test_count_running_jobs);
        g_test_add_func("/model/job/state-names", test_job_state_names);
        g_test_add_func("/model/job/plan-state-change", test_job_plan_state_change);
        g_test_add_func("/model/job/plan-state-change-messages", test_job_plan_state_change_messages);
        g_test_add_func("/model/job/operational-status", test_job_operational_status);

        return g_test_run();
}
