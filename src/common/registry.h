// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace trimtab {

// A registry of factories by name, one per extension point (sources,
// actuators, estimators, simulator models). Each implementation registers
// itself in its own .cpp with one line:
//
//   TRIMTAB_REGISTER(ActuatorRegistry, "http", HttpActuator::create);
//
// Registration runs during static initialization; link extension objects so
// it survives (trimtab_core is linked whole-archive).
//
// Factory is the std::function signature of the factory, e.g.
// Result<std::unique_ptr<Actuator>>(const ConfigNode&).
template <class Tag, class Factory>
class Registry {
 public:
  using FactoryFn = std::function<Factory>;

  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  // Returns false if the name was taken (the first registration wins).
  bool add(std::string name, FactoryFn factory) {
    return factories_.emplace(std::move(name), std::move(factory)).second;
  }

  // nullptr when no factory has that name.
  const FactoryFn* find(const std::string& name) const {
    auto it = factories_.find(name);
    return it == factories_.end() ? nullptr : &it->second;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, _] : factories_) out.push_back(name);
    return out;
  }

 private:
  std::map<std::string, FactoryFn> factories_;
};

#define TRIMTAB_REGISTER_CONCAT2(a, b) a##b
#define TRIMTAB_REGISTER_CONCAT(a, b) TRIMTAB_REGISTER_CONCAT2(a, b)
#define TRIMTAB_REGISTER(RegistryType, name, factory)                      \
  static const bool TRIMTAB_REGISTER_CONCAT(trimtabRegistered_, __LINE__) = \
      RegistryType::instance().add(name, factory)

}  // namespace trimtab
