// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Jump-table composition: slot layout and the tail-call budget. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include "compose.h"

static struct ffpf_compose_flow flows[FFPF_MAX_FLOWS];

static void reset(void)
{
	memset(flows, 0, sizeof(flows));
}

static void add_unguarded(int i, int nstages)
{
	flows[i].present = true;
	flows[i].nstages = nstages;
}

static void add_udp_port(int i, int nstages, __u16 port)
{
	add_unguarded(i, nstages);
	flows[i].guarded = true;
	flows[i].guard.fields = FFPF_M_PROTO | FFPF_M_DPORT;
	flows[i].guard.l4_proto = 17;
	flows[i].guard.dport_lo = flows[i].guard.dport_hi = port;
}

TestSuite(compose, .init = reset);

Test(compose, entry_slot_is_flow_index)
{
	for (int f = 0; f < FFPF_MAX_FLOWS; f++)
		cr_assert_eq(ffpf_stage_slot(f, 0), (__u32)f);
}

Test(compose, slots_are_unique_and_in_range)
{
	static bool used[FFPF_PROG_SLOTS];

	for (int f = 0; f < FFPF_MAX_FLOWS; f++) {
		for (int s = 0; s < FFPF_MAX_STAGES; s++) {
			__u32 slot = ffpf_stage_slot(f, s);

			cr_assert_lt(slot, FFPF_PROG_SLOTS, "flow %d stage %d", f, s);
			cr_assert_not(used[slot], "slot %u used twice (flow %d stage %d)", slot, f, s);
			used[slot] = true;
			if (s)
				cr_assert_neq(slot, FFPF_SLOT_NONE);
		}
	}
}

Test(compose, empty_composition_costs_nothing)
{
	int worst = 7;

	cr_assert_eq(ffpf_compose_worst_path(flows, FFPF_MAX_FLOWS, &worst), 0);
	cr_assert_eq(worst, -1);
}

Test(compose, unguarded_flows_all_add_up)
{
	add_unguarded(0, 3);
	add_unguarded(5, 4);
	add_unguarded(9, 2);
	cr_assert_eq(ffpf_compose_worst_path(flows, FFPF_MAX_FLOWS, NULL), 9);
}

Test(compose, disjoint_guards_do_not_add_up)
{
	for (int i = 0; i < FFPF_MAX_FLOWS; i++)
		add_udp_port(i, 2, 1000 + i);
	cr_assert_eq(ffpf_compose_worst_path(flows, FFPF_MAX_FLOWS, NULL), 2);
	cr_assert_eq(ffpf_compose_check(flows, FFPF_MAX_FLOWS, (char[64]){0}, 64), 0);
}

Test(compose, an_unguarded_flow_overlaps_every_guarded_one)
{
	char why[320];

	for (int i = 0; i < 40; i++)
		add_udp_port(i, 2, 1000 + i);
	add_unguarded(40, 1);
	/* the unguarded flow shares a packet with each guarded one, but the
	 * guarded ones are pairwise disjoint: the bound counts the unguarded
	 * flow's neighbourhood, 1 + 40 * 2 */
	cr_assert_eq(ffpf_compose_worst_path(flows, FFPF_MAX_FLOWS, NULL), 81);
	cr_assert_eq(ffpf_compose_check(flows, FFPF_MAX_FLOWS, why, sizeof(why)), -E2BIG);
	cr_assert(strstr(why, "tail calls"), "%s", why);
	cr_assert(strstr(why, "flow 40"), "names the flow at fault: %s", why);
}

Test(compose, limit_is_inclusive)
{
	char why[320];

	add_unguarded(0, 16);
	add_unguarded(1, 16);
	add_unguarded(2, 1);
	cr_assert_eq(ffpf_compose_worst_path(flows, FFPF_MAX_FLOWS, NULL), 33);
	cr_assert_eq(ffpf_compose_check(flows, FFPF_MAX_FLOWS, why, sizeof(why)), 0);
	flows[2].nstages = 2;
	cr_assert_eq(ffpf_compose_check(flows, FFPF_MAX_FLOWS, why, sizeof(why)), -E2BIG);
}

Test(compose, too_many_stages_in_one_flow)
{
	char why[320];

	add_unguarded(3, FFPF_MAX_STAGES + 1);
	cr_assert_eq(ffpf_compose_check(flows, FFPF_MAX_FLOWS, why, sizeof(why)), -E2BIG);
	cr_assert(strstr(why, "flow 3"), "%s", why);
}

Test(compose, removing_a_flow_frees_budget)
{
	char why[320];

	add_unguarded(0, 16);
	add_unguarded(1, 16);
	add_unguarded(2, 5);
	cr_assert_eq(ffpf_compose_check(flows, FFPF_MAX_FLOWS, why, sizeof(why)), -E2BIG);
	flows[1].present = false;
	cr_assert_eq(ffpf_compose_check(flows, FFPF_MAX_FLOWS, why, sizeof(why)), 0);
	cr_assert_eq(ffpf_compose_worst_path(flows, FFPF_MAX_FLOWS, NULL), 21);
}

Test(compose, overlapping_guards_add_up)
{
	/* same port: both may accept one packet */
	add_udp_port(0, 10, 53);
	add_udp_port(1, 10, 53);
	add_udp_port(2, 10, 80);
	cr_assert_eq(ffpf_compose_worst_path(flows, FFPF_MAX_FLOWS, NULL), 20);
	flows[2].guard.dport_lo = 50;
	flows[2].guard.dport_hi = 60;	/* now overlaps 53 too */
	cr_assert_eq(ffpf_compose_worst_path(flows, FFPF_MAX_FLOWS, NULL), 30);
}

Test(compose, paused_flows_still_count)
{
	/* pausing is one bit at run time: the budget is for present flows,
	 * so activating never needs a check that could fail */
	add_unguarded(0, 20);
	add_unguarded(1, 20);
	cr_assert_eq(ffpf_compose_check(flows, FFPF_MAX_FLOWS, (char[320]){0}, 320), -E2BIG);
}
