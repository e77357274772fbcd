// The oversubscription check made before MPI_Init (mpi::choose_yield): when more ranks share a
// host than there are CPUs, Open MPI's busy-waiting collectives must be told to yield.

#include <gtest/gtest.h>

#include "rfmseg/parallel/mpi.hpp"

using rfmseg::mpi::choose_yield;

TEST(Oversubscription, more_ranks_than_the_cpus_a_rank_may_use_sets_the_yield) {
  const auto choice = choose_yield(4, 2, 2, nullptr);
  EXPECT_TRUE(choice.set);
  EXPECT_EQ(choice.text, "yield set by rfmseg: 4 ranks on 2 CPUs");
  // A cgroup or an allocation that gives the ranks 2 of the host's 64 CPUs: the mask counts.
  EXPECT_TRUE(choose_yield(3, 2, 64, nullptr).set);
}

TEST(Oversubscription, as_many_ranks_as_cpus_or_fewer_needs_nothing) {
  EXPECT_FALSE(choose_yield(2, 2, 2, nullptr).set);
  EXPECT_EQ(choose_yield(2, 2, 2, nullptr).text, "not needed: 2 ranks on 2 CPUs");
  EXPECT_EQ(choose_yield(1, 8, 8, nullptr).text, "not needed: 1 rank on 8 CPUs");
}

TEST(Oversubscription, a_rank_bound_to_one_cpu_counts_the_hosts_cpus) {
  // Bound ranks see one CPU each; only the host's count tells whether they share cores.
  EXPECT_FALSE(choose_yield(4, 1, 8, nullptr).set);
  EXPECT_TRUE(choose_yield(4, 1, 2, nullptr).set);
  EXPECT_EQ(choose_yield(2, 1, 1, nullptr).text, "yield set by rfmseg: 2 ranks on 1 CPU");
}

TEST(Oversubscription, the_users_setting_is_kept_and_an_unknown_count_is_left_alone) {
  const auto user = choose_yield(4, 2, 2, "0");
  EXPECT_FALSE(user.set);
  EXPECT_EQ(user.text, "as set by the user (0): 4 ranks on 2 CPUs");
  const auto unknown = choose_yield(0, 2, 2, nullptr);
  EXPECT_FALSE(unknown.set);
  EXPECT_EQ(unknown.text, "not checked: the launcher did not tell the ranks per host");
}
