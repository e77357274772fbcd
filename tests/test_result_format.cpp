// The result format's one description (io/result_format.hpp): consistent in itself, and
// docs/result-format.md rendered from it. (That the writer writes exactly it is checked by
// e2e.verify_result: `rfmseg verify` of a fresh result notes anything undescribed.)
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "rfmseg/io/result_format.hpp"

namespace rfmseg::result_format {
namespace {

TEST(ResultFormat, PathsAreUniqueAndFound) {
  std::set<std::string_view> seen;
  for (const Dataset* d : datasets()) {
    EXPECT_TRUE(seen.insert(d->path).second) << d->path;
    EXPECT_EQ(find_dataset(d->path), d);
    EXPECT_FALSE(d->meaning.empty()) << d->path;
    EXPECT_EQ(d->rows == Extent::fixed, d->fixed_rows > 0) << d->path;
    EXPECT_FALSE(d->rows == Extent::scalar && d->columns != 0) << d->path;
  }
  EXPECT_EQ(find_dataset("customers/nothing"), nullptr);
}

TEST(ResultFormat, AttributeFamiliesMatchByPrefix) {
  ASSERT_NE(find_attribute("run", "time_kmeans"), nullptr);
  EXPECT_EQ(find_attribute("run", "time_kmeans")->name, "time_<phase>");
  ASSERT_NE(find_attribute("run", "time_total"), nullptr);
  EXPECT_EQ(find_attribute("run", "time_total")->name, "time_total");  // exact entry, not the family's
  EXPECT_NE(find_attribute("model/transform", "kind_monetary"), nullptr);
  EXPECT_EQ(find_attribute("run", "time_"), nullptr);
  EXPECT_EQ(find_attribute("selection", "version"), nullptr);
}

TEST(ResultFormat, ShapeText) {
  EXPECT_EQ(shape_text(customer_id), "[n]");
  EXPECT_EQ(shape_text(features), "[n, 3]");
  EXPECT_EQ(shape_text(centroids), "[k, 3]");
  EXPECT_EQ(shape_text(score_cut_points), "[3, 4]");
  EXPECT_EQ(shape_text(selection_sse), "[m]");
  EXPECT_EQ(shape_text(inertia), "scalar");
}

TEST(ResultFormat, DocumentIsCurrent) {
  const std::string doc_path = std::string(RFMSEG_SOURCE_DIR) + "/docs/result-format.md";
  std::ifstream in(doc_path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string expected = markdown();
  if (text.str() != expected) {
    const std::string fresh = std::string(RFMSEG_BINARY_DIR) + "/result-format.md";
    std::ofstream(fresh) << expected;
    FAIL() << doc_path << " differs from the result format in src/io/result_format.cpp; the rendered page is in "
           << fresh << ": cp " << fresh << " " << doc_path;
  }
}

}  // namespace
}  // namespace rfmseg::result_format
