// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "load_model.h"

namespace trimtab::sim {

// Load replayed from a recorded series (a CSV of time,value rows, e.g. a
// Prometheus range query exported by Grafana). Times are seconds (or
// milliseconds with time_unit: ms), absolute or relative: the first row is
// t = 0. The series plays `speed` times faster than recorded, values are
// multiplied by `scale`, linear interpolation between rows; with `loop` it
// repeats, otherwise the last value holds.
class ReplayLoad final : public LoadModel {
 public:
  struct Series {
    std::vector<double> times;   // relative to the first row, increasing
    std::vector<double> values;
  };
  struct Params {
    Series series;
    double speed = 1;
    double scale = 1;
    bool loop = true;
  };

  // `column` is the 0-based index of the value column (the time is column 0).
  // An optional header line and '#' comments are skipped; quotes are removed.
  // Errors name the file and line.
  static Result<Series> parseCsv(std::string_view text, std::size_t column, double timeUnit,
                                 const std::string& name);

  ReplayLoad(Common c, Params p);
  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node);
  std::string_view kind() const override { return "load.replay"; }
  double shape(Seconds t) const override;

 private:
  Params p_;
  double span_ = 0;                 // loop length in recorded seconds
  mutable std::size_t cursor_ = 0;  // last segment used: time moves forward
};

}  // namespace trimtab::sim
