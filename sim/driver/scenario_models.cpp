// SPDX-License-Identifier: Apache-2.0
#include "scenario_models.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/units.h"

namespace trimtab::sim {

namespace {

// Per-run draws must not depend on the model's own random stream (seeded by
// the same seed), or perturbing would also shift the noise.
constexpr std::uint64_t kPerturbSalt = 0x9e3779b97f4a7c15ULL;

std::vector<Perturbation> effectivePerturbations(const Scenario& scenario) {
  if (!scenario.perturb.empty()) return scenario.perturb;
  std::vector<Perturbation> out;
  for (const char* kind : {"load.constant", "load.ramp", "load.step", "load.diurnal", "load.flash_crowd",
                           "load.replay"}) {
    for (const char* key : {"rps", "mean_rps", "base_rps", "from_rps", "to_rps", "scale"})
      out.push_back(Perturbation{kind, key, kDefaultLoadSpread});
  }
  return out;
}

std::optional<double> scalarValue(const std::string& text) {
  if (auto d = parseDuration(text); d.ok()) return *d;  // a bare number is seconds
  if (auto s = parseSize(text); s.ok()) return static_cast<double>(*s);
  return std::nullopt;
}

void perturb(YAML::Node models, const Scenario& scenario, std::uint64_t seed,
             std::vector<AppliedPerturbation>* applied) {
  std::mt19937_64 rng(seed ^ kPerturbSalt);
  const auto perturbations = effectivePerturbations(scenario);
  for (std::size_t i = 0; i < models.size(); ++i) {
    YAML::Node entry = models[i];
    if (!entry.IsMap() || !entry["model"] || !entry["model"].IsScalar()) continue;
    const std::string kind = entry["model"].Scalar();
    for (const auto& p : perturbations) {
      if (p.kind != kind || !entry[p.key] || !entry[p.key].IsScalar()) continue;
      auto value = scalarValue(entry[p.key].Scalar());
      if (!value) continue;  // the model's own check reports it
      // Uniform from 53 bits, as the models draw, so every platform agrees.
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
      const double factor = 1.0 + p.spread * (2.0 * u - 1.0);
      const double changed = *value * factor;
      entry[p.key] = fmt::format("{:.17g}", changed);
      if (applied) applied->push_back({fmt::format("models[{}].{}", i, p.key), factor, changed});
    }
  }
}

}  // namespace

Result<std::string> readTextFile(const std::string& file, std::uintmax_t maxBytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) return makeError(file + ": is a directory, not a file");
  if (auto size = std::filesystem::file_size(file, ec); maxBytes > 0 && !ec && size > maxBytes)
    return makeError(file + ": larger than " + std::to_string(maxBytes >> 20) + " MiB");
  std::ifstream in(file, std::ios::binary);
  if (!in) return makeError(file + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Status addScenarioModels(const Scenario& scenario, std::optional<std::uint64_t> perturbSeed, ModelStack& stack,
                         std::vector<AppliedPerturbation>* applied) {
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  std::vector<ConfigNode> entries;
  try {
    YAML::Node root = YAML::Load(scenario.text);
    if (perturbSeed && root["models"]) perturb(root["models"], scenario, *perturbSeed, applied);
    ConfigNode node(root, scenario.file, "", diagnostics);
    entries = node.childList("models");
  } catch (const YAML::Exception& e) {
    return makeError(scenario.file + ": invalid YAML: " + e.msg);
  }
  Status added = stack.addFromConfig(entries);
  if (!diagnostics->empty()) return makeError(diagnostics->format());
  return added;
}

}  // namespace trimtab::sim
