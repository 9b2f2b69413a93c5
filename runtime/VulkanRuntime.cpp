//===- VulkanRuntime.cpp - attn's Vulkan layer ----------------------------===//
//
// See VulkanRuntime.h. The loader is opened with dlopen and every function
// looked up through vkGetInstanceProcAddr / vkGetDeviceProcAddr; vulkan.h
// supplies only the types. One device, one compute queue, one command
// buffer, fence, descriptor pool and params buffer, reused by every launch
// under one mutex: a launch records the dispatch, submits it and waits.
//
//===----------------------------------------------------------------------===//

#include "attn/Runtime/VulkanRuntime.h"
#include "attn/Runtime/VulkanKernelBinary.h"

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {

namespace abi = attn::vulkan;

// Functions looked up from the instance, then from the device.
#define ATTN_VK_INSTANCE_FUNCTIONS(X)                                          \
  X(vkDestroyInstance)                                                         \
  X(vkEnumeratePhysicalDevices)                                                \
  X(vkGetPhysicalDeviceProperties)                                             \
  X(vkGetPhysicalDeviceProperties2)                                            \
  X(vkGetPhysicalDeviceFeatures2)                                              \
  X(vkGetPhysicalDeviceQueueFamilyProperties)                                  \
  X(vkGetPhysicalDeviceMemoryProperties)                                       \
  X(vkCreateDevice)                                                            \
  X(vkGetDeviceProcAddr)
#define ATTN_VK_DEVICE_FUNCTIONS(X)                                            \
  X(vkDestroyDevice)                                                           \
  X(vkGetDeviceQueue)                                                          \
  X(vkCreateBuffer)                                                            \
  X(vkDestroyBuffer)                                                           \
  X(vkGetBufferMemoryRequirements)                                             \
  X(vkAllocateMemory)                                                          \
  X(vkFreeMemory)                                                              \
  X(vkBindBufferMemory)                                                        \
  X(vkMapMemory)                                                               \
  X(vkCreateShaderModule)                                                      \
  X(vkDestroyShaderModule)                                                     \
  X(vkCreateDescriptorSetLayout)                                               \
  X(vkDestroyDescriptorSetLayout)                                              \
  X(vkCreatePipelineLayout)                                                    \
  X(vkDestroyPipelineLayout)                                                   \
  X(vkCreatePipelineCache)                                                     \
  X(vkDestroyPipelineCache)                                                    \
  X(vkCreateComputePipelines)                                                  \
  X(vkDestroyPipeline)                                                         \
  X(vkCreateDescriptorPool)                                                    \
  X(vkDestroyDescriptorPool)                                                   \
  X(vkResetDescriptorPool)                                                     \
  X(vkAllocateDescriptorSets)                                                  \
  X(vkUpdateDescriptorSets)                                                    \
  X(vkCreateCommandPool)                                                       \
  X(vkDestroyCommandPool)                                                      \
  X(vkAllocateCommandBuffers)                                                  \
  X(vkResetCommandBuffer)                                                      \
  X(vkBeginCommandBuffer)                                                      \
  X(vkEndCommandBuffer)                                                        \
  X(vkCmdBindPipeline)                                                         \
  X(vkCmdBindDescriptorSets)                                                   \
  X(vkCmdDispatch)                                                             \
  X(vkCmdResetQueryPool)                                                       \
  X(vkCmdWriteTimestamp)                                                       \
  X(vkCreateQueryPool)                                                         \
  X(vkDestroyQueryPool)                                                        \
  X(vkGetQueryPoolResults)                                                     \
  X(vkCreateFence)                                                             \
  X(vkDestroyFence)                                                            \
  X(vkResetFences)                                                             \
  X(vkWaitForFences)                                                           \
  X(vkQueueSubmit)

struct Api {
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
  PFN_vkCreateInstance vkCreateInstance = nullptr;
  PFN_vkEnumerateInstanceLayerProperties vkEnumerateInstanceLayerProperties =
      nullptr;
  PFN_vkCreateDebugUtilsMessengerEXT vkCreateDebugUtilsMessengerEXT = nullptr;
#define ATTN_VK_DECLARE(name) PFN_##name name = nullptr;
  ATTN_VK_INSTANCE_FUNCTIONS(ATTN_VK_DECLARE)
  ATTN_VK_DEVICE_FUNCTIONS(ATTN_VK_DECLARE)
#undef ATTN_VK_DECLARE
};

/// A device allocation: a storage buffer whose memory stays mapped; its
/// mapped address is the "device pointer" compiled code sees.
struct Allocation {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  uint64_t size = 0;
};

struct Kernel {
  abi::Kernel abi;
  VkDescriptorSetLayout setLayout = VK_NULL_HANDLE;
  VkPipelineLayout pipelineLayout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
};

struct Module {
  VkShaderModule shader = VK_NULL_HANDLE;
  std::vector<std::unique_ptr<Kernel>> kernels;
};

/// Streams and events: launches complete before they return, so these only
/// need to be distinct handles.
struct Marker {
  int unused = 0;
};

struct State {
  Api api;
  void *library = nullptr;
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties{};
  uint32_t subgroupSize = 0;
  uint32_t features = 0; ///< abi::Feature bits the device has (enabled).
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t queueFamily = 0;
  bool timestamps = false;
  uint32_t memoryType = 0;
  VkCommandPool commandPool = VK_NULL_HANDLE;
  VkCommandBuffer commands = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  VkDescriptorPool descriptorPool = VK_NULL_HANDLE;
  VkQueryPool queryPool = VK_NULL_HANDLE;
  VkPipelineCache pipelineCache = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  Allocation params;
  void *paramsMapped = nullptr;
  bool initialized = false;
  bool attempted = false;
  std::string initError; ///< Why initialization failed, for every caller.

  std::map<uintptr_t, Allocation> allocations;
  std::set<const void *> modules, kernels, markers;

  bool timing = false;
  double milliseconds = 0;

  std::string error;
  bool errorPending = false;
};

/// Descriptors of one launch: storage buffers per kernel at most.
constexpr uint32_t kMaxBindings = 64;
constexpr uint64_t kParamsBytes = 64 << 10;


/// Constructed on first use: compiled code's global constructors (which
/// load modules) may run before this file's static initializers.
State &state() {
  static State *s = new State();
  return *s;
}
std::recursive_mutex &mutex() {
  static std::recursive_mutex *m = new std::recursive_mutex();
  return *m;
}

void fail(const std::string &message) {
  State &s = state();
  if (!s.errorPending) {
    s.error = message;
    s.errorPending = true;
  }
}

const char *resultName(VkResult result) {
  switch (result) {
#define ATTN_VK_RESULT(name)                                                   \
  case name:                                                                   \
    return #name;
    ATTN_VK_RESULT(VK_NOT_READY)
    ATTN_VK_RESULT(VK_TIMEOUT)
    ATTN_VK_RESULT(VK_INCOMPLETE)
    ATTN_VK_RESULT(VK_ERROR_OUT_OF_HOST_MEMORY)
    ATTN_VK_RESULT(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    ATTN_VK_RESULT(VK_ERROR_INITIALIZATION_FAILED)
    ATTN_VK_RESULT(VK_ERROR_DEVICE_LOST)
    ATTN_VK_RESULT(VK_ERROR_MEMORY_MAP_FAILED)
    ATTN_VK_RESULT(VK_ERROR_LAYER_NOT_PRESENT)
    ATTN_VK_RESULT(VK_ERROR_EXTENSION_NOT_PRESENT)
    ATTN_VK_RESULT(VK_ERROR_FEATURE_NOT_PRESENT)
    ATTN_VK_RESULT(VK_ERROR_INCOMPATIBLE_DRIVER)
    ATTN_VK_RESULT(VK_ERROR_TOO_MANY_OBJECTS)
    ATTN_VK_RESULT(VK_ERROR_FORMAT_NOT_SUPPORTED)
    ATTN_VK_RESULT(VK_ERROR_FRAGMENTED_POOL)
    ATTN_VK_RESULT(VK_ERROR_UNKNOWN)
    ATTN_VK_RESULT(VK_ERROR_OUT_OF_POOL_MEMORY)
    ATTN_VK_RESULT(VK_ERROR_INVALID_SHADER_NV)
#undef ATTN_VK_RESULT
  default:
    return "VkResult";
  }
}

/// Records a failed call with its VkResult name; true on success.
bool check(VkResult result, const char *call) {
  if (result == VK_SUCCESS)
    return true;
  fail(std::string(call) + " failed: " + resultName(result) + " (" +
       std::to_string(static_cast<int>(result)) + ")");
  return false;
}

/// Looks `name` up with `lookup` into `slot`; false (recorded) when the
/// Vulkan `owner` (loader or device) lacks it.
template <typename Function, typename Lookup>
bool bind(Function &slot, Lookup lookup, const char *name, const char *owner) {
  slot = reinterpret_cast<Function>(lookup(name));
  if (!slot)
    fail(std::string("the Vulkan ") + owner + " lacks " + name);
  return slot != nullptr;
}

VKAPI_ATTR VkBool32 VKAPI_CALL
onValidationMessage(VkDebugUtilsMessageSeverityFlagBitsEXT,
                    VkDebugUtilsMessageTypeFlagsEXT,
                    const VkDebugUtilsMessengerCallbackDataEXT *data, void *) {
  fail(std::string("Vulkan validation: ") +
       (data && data->pMessage ? data->pMessage : "(no message)"));
  return VK_FALSE;
}

bool loadLoader(State &s) {
  s.library = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!s.library) {
    const char *why = dlerror();
    fail(std::string("cannot load the Vulkan loader libvulkan.so.1 (Debian "
                     "package libvulkan1): ") +
         (why ? why : "unknown error"));
    return false;
  }
  s.api.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(
      dlsym(s.library, "vkGetInstanceProcAddr"));
  if (!s.api.vkGetInstanceProcAddr) {
    fail("the Vulkan loader lacks vkGetInstanceProcAddr");
    return false;
  }
  s.api.vkCreateInstance = reinterpret_cast<PFN_vkCreateInstance>(
      s.api.vkGetInstanceProcAddr(nullptr, "vkCreateInstance"));
  s.api.vkEnumerateInstanceLayerProperties =
      reinterpret_cast<PFN_vkEnumerateInstanceLayerProperties>(
          s.api.vkGetInstanceProcAddr(nullptr,
                                      "vkEnumerateInstanceLayerProperties"));
  if (!s.api.vkCreateInstance || !s.api.vkEnumerateInstanceLayerProperties) {
    fail("the Vulkan loader lacks vkCreateInstance");
    return false;
  }
  return true;
}

bool validationRequested(bool &requested) {
  requested = false;
  const char *value = std::getenv("ATTN_VULKAN_VALIDATION");
  if (!value || !*value || std::strcmp(value, "0") == 0)
    return true;
  if (std::strcmp(value, "1") != 0) {
    fail(std::string("ATTN_VULKAN_VALIDATION='") + value +
         "' must be 0 or 1");
    return false;
  }
  requested = true;
  return true;
}

bool createInstance(State &s) {
  bool validation;
  if (!validationRequested(validation))
    return false;
  std::vector<const char *> layers, extensions;
  if (validation) {
    uint32_t count = 0;
    s.api.vkEnumerateInstanceLayerProperties(&count, nullptr);
    std::vector<VkLayerProperties> available(count);
    s.api.vkEnumerateInstanceLayerProperties(&count, available.data());
    bool found = std::any_of(
        available.begin(), available.end(), [](const VkLayerProperties &l) {
          return std::strcmp(l.layerName, "VK_LAYER_KHRONOS_validation") == 0;
        });
    if (!found) {
      fail("ATTN_VULKAN_VALIDATION=1 but the layer "
           "VK_LAYER_KHRONOS_validation is not installed (Debian package "
           "vulkan-validationlayers)");
      return false;
    }
    layers.push_back("VK_LAYER_KHRONOS_validation");
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "attn";
  app.pEngineName = "attn";
  app.apiVersion = VK_API_VERSION_1_2;
  VkInstanceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  info.pApplicationInfo = &app;
  info.enabledLayerCount = layers.size();
  info.ppEnabledLayerNames = layers.data();
  info.enabledExtensionCount = extensions.size();
  info.ppEnabledExtensionNames = extensions.data();
  if (!check(s.api.vkCreateInstance(&info, nullptr, &s.instance),
             "vkCreateInstance"))
    return false;
  auto lookup = [&](const char *name) {
    return s.api.vkGetInstanceProcAddr(s.instance, name);
  };
  bool ok = true;
#define ATTN_VK_LOAD(name) ok &= bind(s.api.name, lookup, #name, "loader");
  ATTN_VK_INSTANCE_FUNCTIONS(ATTN_VK_LOAD)
#undef ATTN_VK_LOAD
  if (!ok)
    return false;
  if (validation) {
    s.api.vkCreateDebugUtilsMessengerEXT =
        reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            s.api.vkGetInstanceProcAddr(s.instance,
                                        "vkCreateDebugUtilsMessengerEXT"));
    if (!s.api.vkCreateDebugUtilsMessengerEXT) {
      fail("VK_EXT_debug_utils has no vkCreateDebugUtilsMessengerEXT");
      return false;
    }
    VkDebugUtilsMessengerCreateInfoEXT messenger{};
    messenger.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
    messenger.messageSeverity =
        VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
        VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    messenger.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT;
    messenger.pfnUserCallback = onValidationMessage;
    if (!check(s.api.vkCreateDebugUtilsMessengerEXT(s.instance, &messenger,
                                                    nullptr, &s.messenger),
               "vkCreateDebugUtilsMessengerEXT"))
      return false;
  }
  return true;
}

bool choosePhysicalDevice(State &s) {
  uint32_t count = 0;
  if (!check(s.api.vkEnumeratePhysicalDevices(s.instance, &count, nullptr),
             "vkEnumeratePhysicalDevices"))
    return false;
  if (count == 0) {
    fail("no Vulkan device is present (on a machine without a GPU, install "
         "Mesa's lavapipe: Debian package mesa-vulkan-drivers)");
    return false;
  }
  std::vector<VkPhysicalDevice> devices(count);
  if (!check(s.api.vkEnumeratePhysicalDevices(s.instance, &count,
                                              devices.data()),
             "vkEnumeratePhysicalDevices"))
    return false;
  int64_t chosen = -1;
  if (const char *value = std::getenv("ATTN_VULKAN_DEVICE")) {
    // Digits only, as written (strtol would take " 1" and "+1").
    bool digits =
        *value && std::all_of(value, value + std::strlen(value),
                              [](char c) { return c >= '0' && c <= '9'; });
    char *end = nullptr;
    long index = digits ? std::strtol(value, &end, 10) : -1;
    if (index < 0 || index >= static_cast<long>(count)) {
      fail(std::string("ATTN_VULKAN_DEVICE='") + value +
           "' is not a device: there " + (count == 1 ? "is " : "are ") +
           std::to_string(count) + " Vulkan device" + (count == 1 ? "" : "s") +
           ", numbered from 0");
      return false;
    }
    chosen = index;
  }
  for (uint32_t i = 0; i < count; ++i) {
    if (chosen >= 0 && static_cast<int64_t>(i) != chosen)
      continue;
    uint32_t families = 0;
    s.api.vkGetPhysicalDeviceQueueFamilyProperties(devices[i], &families,
                                                   nullptr);
    std::vector<VkQueueFamilyProperties> properties(families);
    s.api.vkGetPhysicalDeviceQueueFamilyProperties(devices[i], &families,
                                                   properties.data());
    for (uint32_t f = 0; f < families; ++f)
      if (properties[f].queueFlags & VK_QUEUE_COMPUTE_BIT) {
        s.physical = devices[i];
        s.queueFamily = f;
        s.timestamps = properties[f].timestampValidBits > 0;
        return true;
      }
    if (chosen >= 0) {
      fail("Vulkan device " + std::to_string(chosen) +
           " (ATTN_VULKAN_DEVICE) has no compute queue");
      return false;
    }
  }
  fail("no Vulkan device has a compute queue");
  return false;
}

bool createDevice(State &s) {
  s.api.vkGetPhysicalDeviceProperties(s.physical, &s.properties);
  if (s.properties.apiVersion < VK_API_VERSION_1_1) {
    fail(std::string("Vulkan device '") + s.properties.deviceName +
         "' supports Vulkan " +
         std::to_string(VK_API_VERSION_MAJOR(s.properties.apiVersion)) + "." +
         std::to_string(VK_API_VERSION_MINOR(s.properties.apiVersion)) +
         "; attn needs 1.1 or later");
    return false;
  }
  VkPhysicalDeviceFloatControlsProperties floatControls{};
  floatControls.sType =
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FLOAT_CONTROLS_PROPERTIES;
  VkPhysicalDeviceSubgroupProperties subgroup{};
  subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
  bool vulkan12 = s.properties.apiVersion >= VK_API_VERSION_1_2;
  subgroup.pNext = vulkan12 ? &floatControls : nullptr;
  VkPhysicalDeviceProperties2 properties2{};
  properties2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  properties2.pNext = &subgroup;
  s.api.vkGetPhysicalDeviceProperties2(s.physical, &properties2);
  s.subgroupSize = subgroup.subgroupSize;

  if (vulkan12 && floatControls.shaderSignedZeroInfNanPreserveFloat32)
    s.features |= abi::kFeatureNanPreserve32;

  // The optional features attn's kernels may need: enable what exists.
  VkPhysicalDeviceVulkan12Features features12{};
  features12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  VkPhysicalDeviceVulkan11Features features11{};
  features11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  features11.pNext = vulkan12 ? &features12 : nullptr;
  VkPhysicalDeviceFeatures2 features{};
  features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  features.pNext = &features11;
  s.api.vkGetPhysicalDeviceFeatures2(s.physical, &features);
  VkPhysicalDeviceVulkan12Features enable12{};
  enable12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  VkPhysicalDeviceVulkan11Features enable11{};
  enable11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  enable11.pNext = vulkan12 ? &enable12 : nullptr;
  VkPhysicalDeviceFeatures2 enable{};
  enable.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  enable.pNext = &enable11;
  auto offer = [&](VkBool32 has, VkBool32 &on, uint32_t bit) {
    if (has) {
      on = VK_TRUE;
      s.features |= bit;
    }
  };
  offer(features.features.shaderInt16, enable.features.shaderInt16,
        abi::kFeatureInt16);
  offer(features.features.shaderInt64, enable.features.shaderInt64,
        abi::kFeatureInt64);
  offer(features11.storageBuffer16BitAccess, enable11.storageBuffer16BitAccess,
        abi::kFeatureStorage16);
  if (vulkan12) {
    offer(features12.shaderFloat16, enable12.shaderFloat16,
          abi::kFeatureFloat16);
    offer(features12.shaderInt8, enable12.shaderInt8, abi::kFeatureInt8);
    offer(features12.storageBuffer8BitAccess, enable12.storageBuffer8BitAccess,
          abi::kFeatureStorage8);
  }

  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue{};
  queue.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  queue.queueFamilyIndex = s.queueFamily;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  VkDeviceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  info.pNext = &enable;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue;
  if (!check(s.api.vkCreateDevice(s.physical, &info, nullptr, &s.device),
             "vkCreateDevice"))
    return false;
  auto lookup = [&](const char *name) {
    return s.api.vkGetDeviceProcAddr(s.device, name);
  };
  bool ok = true;
#define ATTN_VK_LOAD(name) ok &= bind(s.api.name, lookup, #name, "device");
  ATTN_VK_DEVICE_FUNCTIONS(ATTN_VK_LOAD)
#undef ATTN_VK_LOAD
  if (!ok)
    return false;
  s.api.vkGetDeviceQueue(s.device, s.queueFamily, 0, &s.queue);

  // Host-visible, coherent memory for every buffer.
  VkPhysicalDeviceMemoryProperties memory;
  s.api.vkGetPhysicalDeviceMemoryProperties(s.physical, &memory);
  VkMemoryPropertyFlags wanted = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                 VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  bool found = false;
  for (uint32_t i = 0; i < memory.memoryTypeCount && !found; ++i)
    if ((memory.memoryTypes[i].propertyFlags & wanted) == wanted) {
      s.memoryType = i;
      found = true;
    }
  if (!found) {
    fail(std::string("Vulkan device '") + s.properties.deviceName +
         "' has no host-visible coherent memory");
    return false;
  }
  return true;
}

bool createQueueObjects(State &s) {
  VkCommandPoolCreateInfo pool{};
  pool.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool.queueFamilyIndex = s.queueFamily;
  if (!check(s.api.vkCreateCommandPool(s.device, &pool, nullptr,
                                       &s.commandPool),
             "vkCreateCommandPool"))
    return false;
  VkCommandBufferAllocateInfo commands{};
  commands.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  commands.commandPool = s.commandPool;
  commands.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  commands.commandBufferCount = 1;
  if (!check(s.api.vkAllocateCommandBuffers(s.device, &commands, &s.commands),
             "vkAllocateCommandBuffers"))
    return false;
  VkFenceCreateInfo fence{};
  fence.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  if (!check(s.api.vkCreateFence(s.device, &fence, nullptr, &s.fence),
             "vkCreateFence"))
    return false;
  VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kMaxBindings};
  VkDescriptorPoolCreateInfo descriptors{};
  descriptors.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
  descriptors.maxSets = 1;
  descriptors.poolSizeCount = 1;
  descriptors.pPoolSizes = &size;
  if (!check(s.api.vkCreateDescriptorPool(s.device, &descriptors, nullptr,
                                          &s.descriptorPool),
             "vkCreateDescriptorPool"))
    return false;
  if (s.timestamps) {
    VkQueryPoolCreateInfo queries{};
    queries.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    queries.queryType = VK_QUERY_TYPE_TIMESTAMP;
    queries.queryCount = 2;
    if (!check(s.api.vkCreateQueryPool(s.device, &queries, nullptr,
                                       &s.queryPool),
               "vkCreateQueryPool"))
      return false;
  }
  VkPipelineCacheCreateInfo cache{};
  cache.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO;
  return check(s.api.vkCreatePipelineCache(s.device, &cache, nullptr,
                                           &s.pipelineCache),
               "vkCreatePipelineCache");
}

bool createAllocation(State &s, uint64_t bytes, Allocation &allocation,
                      void *&mapped) {
  VkBufferCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = bytes;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
               VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  if (!check(s.api.vkCreateBuffer(s.device, &info, nullptr, &allocation.buffer),
             "vkCreateBuffer"))
    return false;
  VkMemoryRequirements requirements;
  s.api.vkGetBufferMemoryRequirements(s.device, allocation.buffer,
                                      &requirements);
  if (!(requirements.memoryTypeBits & (1u << s.memoryType))) {
    s.api.vkDestroyBuffer(s.device, allocation.buffer, nullptr);
    fail("Vulkan storage buffers cannot live in host-visible memory on "
         "this device");
    return false;
  }
  VkMemoryAllocateInfo memory{};
  memory.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  memory.allocationSize = requirements.size;
  memory.memoryTypeIndex = s.memoryType;
  if (!check(s.api.vkAllocateMemory(s.device, &memory, nullptr,
                                    &allocation.memory),
             "vkAllocateMemory")) {
    s.api.vkDestroyBuffer(s.device, allocation.buffer, nullptr);
    return false;
  }
  if (!check(s.api.vkBindBufferMemory(s.device, allocation.buffer,
                                      allocation.memory, 0),
             "vkBindBufferMemory") ||
      !check(s.api.vkMapMemory(s.device, allocation.memory, 0, VK_WHOLE_SIZE,
                               0, &mapped),
             "vkMapMemory")) {
    s.api.vkDestroyBuffer(s.device, allocation.buffer, nullptr);
    s.api.vkFreeMemory(s.device, allocation.memory, nullptr);
    return false;
  }
  allocation.size = bytes;
  return true;
}

void destroyAllocation(State &s, Allocation &allocation) {
  s.api.vkDestroyBuffer(s.device, allocation.buffer, nullptr);
  s.api.vkFreeMemory(s.device, allocation.memory, nullptr);
}

/// Initializes once; afterwards true while no error is pending.
bool ready() {
  State &s = state();
  if (s.errorPending)
    return false;
  if (s.initialized)
    return true;
  if (s.attempted) {
    fail(s.initError);
    return false;
  }
  s.attempted = true;
  if (!loadLoader(s) || !createInstance(s) || !choosePhysicalDevice(s) ||
      !createDevice(s) || !createQueueObjects(s) ||
      !createAllocation(s, kParamsBytes, s.params, s.paramsMapped)) {
    s.initError = s.error;
    return false;
  }
  s.initialized = true;
  return true;
}

/// What a SPIR-V module declares of one compute entry point.
struct EntryPoint {
  bool hasLocalSize = false; ///< False with LocalSizeId (spec constants).
  uint32_t localSize[3] = {0, 0, 0};
};

/// The GLCompute entry points of a SPIR-V module by name; false with
/// `error` set when the words are not SPIR-V.
bool readEntryPoints(const std::vector<uint32_t> &spirv,
                     std::map<std::string, EntryPoint> &entries,
                     std::string &error) {
  constexpr uint32_t kSpirvMagic = 0x07230203, kHeaderWords = 5;
  constexpr uint32_t kOpEntryPoint = 15, kOpExecutionMode = 16;
  constexpr uint32_t kGLCompute = 5, kLocalSize = 17;
  if (spirv.size() < kHeaderWords || spirv[0] != kSpirvMagic) {
    error = "the attn Vulkan kernel binary holds no SPIR-V module (" +
            std::to_string(spirv.size()) + " words without the SPIR-V magic)";
    return false;
  }
  std::map<uint32_t, std::string> names; // entry point's function id
  std::map<uint32_t, EntryPoint> modes;
  for (size_t at = kHeaderWords; at < spirv.size();) {
    uint32_t words = spirv[at] >> 16, opcode = spirv[at] & 0xffff;
    if (words == 0 || words > spirv.size() - at) {
      error = "the SPIR-V module of the attn Vulkan kernel binary is "
              "malformed at word " +
              std::to_string(at);
      return false;
    }
    const uint32_t *operands = &spirv[at + 1];
    if (opcode == kOpEntryPoint && words >= 4 && operands[0] == kGLCompute) {
      const char *name = reinterpret_cast<const char *>(&operands[2]);
      names[operands[1]] = std::string(name, strnlen(name, (words - 3) * 4));
    } else if (opcode == kOpExecutionMode && words == 6 &&
               operands[1] == kLocalSize) {
      EntryPoint &entry = modes[operands[0]];
      entry.hasLocalSize = true;
      std::copy(operands + 2, operands + 5, entry.localSize);
    }
    at += words;
  }
  for (const auto &[id, name] : names)
    entries[name] = modes[id];
  return true;
}

std::string sizeText(const uint32_t size[3]) {
  return std::to_string(size[0]) + "x" + std::to_string(size[1]) + "x" +
         std::to_string(size[2]);
}

/// Records that kernel `k`'s description in the container is malformed.
bool malformedKernel(const abi::Kernel &k, const std::string &why) {
  fail("kernel " + k.name +
       " is malformed in the attn Vulkan kernel binary: " + why);
  return false;
}

/// Checks that each kernel's description is one the layer can launch:
/// known argument kinds, params words and bindings in range, each binding
/// once; false with the error set.
bool checkKernelDescriptions(const abi::KernelBinary &binary) {
  std::set<std::string> kernelNames;
  for (const abi::Kernel &k : binary.kernels) {
    if (!kernelNames.insert(k.name).second)
      return malformedKernel(k, "a second kernel has its name");
    if (k.paramsWords == 0)
      return malformedKernel(k, "it has no params words (the last is the "
                                "status word)");
    std::set<uint32_t> bindings;
    for (size_t a = 0; a < k.args.size(); ++a) {
      const abi::KernelArg &arg = k.args[a];
      std::string argument = "argument " + std::to_string(a) + " ";
      if (arg.kind > abi::ArgKind::I1)
        return malformedKernel(
            k, argument + "has unknown kind " +
                   std::to_string(static_cast<uint32_t>(arg.kind)));
      bool buffer = arg.kind == abi::ArgKind::Buffer;
      uint64_t lastWord = uint64_t(arg.word) + (buffer ? arg.rank : 0);
      if (lastWord >= k.statusWord())
        return malformedKernel(k, argument + "reads params word " +
                                      std::to_string(lastWord) +
                                      ", not below the status word " +
                                      std::to_string(k.statusWord()));
      if (!buffer)
        continue;
      if (arg.elementBytes == 0)
        return malformedKernel(k, argument + "has elements of 0 bytes");
      if (arg.binding >= k.paramsBinding)
        return malformedKernel(k, argument + "has binding " +
                                      std::to_string(arg.binding) +
                                      ", not below the params binding " +
                                      std::to_string(k.paramsBinding));
      if (!bindings.insert(arg.binding).second)
        return malformedKernel(k, argument +
                                      "has the binding of another argument (" +
                                      std::to_string(arg.binding) + ")");
    }
  }
  return true;
}

/// Checks that the SPIR-V has each kernel as a compute entry point with the
/// container's workgroup size (a driver may crash on a missing one); false
/// with the error set.
bool checkEntryPoints(const abi::KernelBinary &binary) {
  std::map<std::string, EntryPoint> entries;
  std::string error;
  if (!readEntryPoints(binary.spirv, entries, error)) {
    fail(error);
    return false;
  }
  for (const abi::Kernel &k : binary.kernels) {
    auto entry = entries.find(k.name);
    if (entry == entries.end()) {
      fail("kernel " + k.name +
           " is not a GLCompute entry point of the module's SPIR-V");
      return false;
    }
    if (entry->second.hasLocalSize &&
        !std::equal(k.workgroupSize, k.workgroupSize + 3,
                    entry->second.localSize))
      return malformedKernel(k, "its workgroup size is " +
                                    sizeText(k.workgroupSize) +
                                    ", its SPIR-V's LocalSize " +
                                    sizeText(entry->second.localSize));
  }
  return true;
}

/// Checks a kernel against the device's limits; false with the error set.
bool checkLimits(State &s, const abi::Kernel &k) {
  const VkPhysicalDeviceLimits &limits = s.properties.limits;
  std::string name = "kernel " + k.name + " ";
  uint64_t invocations = 1;
  for (int d = 0; d < 3; ++d) {
    invocations *= k.workgroupSize[d];
    if (k.workgroupSize[d] > limits.maxComputeWorkGroupSize[d]) {
      fail(name + "has workgroup size " + std::to_string(k.workgroupSize[d]) +
           " in dimension " + std::to_string(d) + ", more than the device's " +
           std::to_string(limits.maxComputeWorkGroupSize[d]) +
           " (maxComputeWorkGroupSize)");
      return false;
    }
  }
  if (invocations > limits.maxComputeWorkGroupInvocations) {
    fail(name + "has " + std::to_string(invocations) +
         " invocations per workgroup, more than the device's " +
         std::to_string(limits.maxComputeWorkGroupInvocations) +
         " (maxComputeWorkGroupInvocations)");
    return false;
  }
  if (k.sharedBytes > limits.maxComputeSharedMemorySize) {
    fail(name + "uses " + std::to_string(k.sharedBytes) +
         " bytes of workgroup memory, more than the device's " +
         std::to_string(limits.maxComputeSharedMemorySize) +
         " (maxComputeSharedMemorySize)");
    return false;
  }
  uint32_t bindings = k.paramsBinding + 1;
  if (bindings > limits.maxPerStageDescriptorStorageBuffers ||
      bindings > kMaxBindings) {
    fail(name + "binds " + std::to_string(bindings) +
         " storage buffers, more than the device's " +
         std::to_string(std::min<uint32_t>(
             limits.maxPerStageDescriptorStorageBuffers, kMaxBindings)) +
         " (maxPerStageDescriptorStorageBuffers)");
    return false;
  }
  if (k.paramsWords * 4ull > kParamsBytes) {
    fail(name + "takes " + std::to_string(k.paramsWords) +
         " params words, more than attn's Vulkan layer holds");
    return false;
  }
  return true;
}

bool createKernel(State &s, Module &module, Kernel &k) {
  uint32_t bindings = k.abi.paramsBinding + 1;
  std::vector<VkDescriptorSetLayoutBinding> layout(bindings);
  for (uint32_t b = 0; b < bindings; ++b) {
    layout[b].binding = b;
    layout[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    layout[b].descriptorCount = 1;
    layout[b].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo setInfo{};
  setInfo.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
  setInfo.bindingCount = bindings;
  setInfo.pBindings = layout.data();
  if (!check(s.api.vkCreateDescriptorSetLayout(s.device, &setInfo, nullptr,
                                               &k.setLayout),
             "vkCreateDescriptorSetLayout"))
    return false;
  VkPipelineLayoutCreateInfo pipelineLayout{};
  pipelineLayout.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  pipelineLayout.setLayoutCount = 1;
  pipelineLayout.pSetLayouts = &k.setLayout;
  if (!check(s.api.vkCreatePipelineLayout(s.device, &pipelineLayout, nullptr,
                                          &k.pipelineLayout),
             "vkCreatePipelineLayout"))
    return false;
  VkComputePipelineCreateInfo pipeline{};
  pipeline.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  pipeline.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  pipeline.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  pipeline.stage.module = module.shader;
  pipeline.stage.pName = k.abi.name.c_str();
  pipeline.layout = k.pipelineLayout;
  return check(s.api.vkCreateComputePipelines(s.device, s.pipelineCache, 1,
                                              &pipeline, nullptr, &k.pipeline),
               ("vkCreateComputePipelines for kernel " + k.abi.name).c_str());
}

void destroyModule(State &s, Module *module) {
  for (auto &k : module->kernels) {
    if (k->pipeline)
      s.api.vkDestroyPipeline(s.device, k->pipeline, nullptr);
    if (k->pipelineLayout)
      s.api.vkDestroyPipelineLayout(s.device, k->pipelineLayout, nullptr);
    if (k->setLayout)
      s.api.vkDestroyDescriptorSetLayout(s.device, k->setLayout, nullptr);
    s.kernels.erase(k.get());
  }
  if (module->shader)
    s.api.vkDestroyShaderModule(s.device, module->shader, nullptr);
  s.modules.erase(module);
  delete module;
}

/// The allocation that holds [address, address + bytes), or null.
Allocation *findAllocation(State &s, uintptr_t address, uint64_t &offset) {
  auto it = s.allocations.upper_bound(address);
  if (it == s.allocations.begin())
    return nullptr;
  --it;
  if (address >= it->first + it->second.size)
    return nullptr;
  offset = address - it->first;
  return &it->second;
}

/// Whether a value for argument `argument` fits the kernels' 32-bit
/// indices; records the error when not.
bool fitsIn32Bits(const Kernel &k, size_t argument, const char *what,
                  int64_t value) {
  if (value >= INT32_MIN && value <= INT32_MAX)
    return true;
  fail("kernel " + k.abi.name + " argument " + std::to_string(argument) + ": " +
       what + " " + std::to_string(value) +
       " does not fit the 32-bit indices of Vulkan kernels");
  return false;
}

/// The params words and the descriptor of memref argument `a` from its
/// descriptor's kernel parameters (allocated, aligned, offset, sizes[r],
/// strides[r]); false with the error set. A memref without elements needs
/// no memory: its binding gets a placeholder.
bool marshalBuffer(State &s, const Kernel &k, size_t a, void **descriptor,
                   int32_t *words, VkDescriptorBufferInfo &buffer) {
  const abi::KernelArg &arg = k.abi.args[a];
  std::string argument =
      "kernel " + k.abi.name + " argument " + std::to_string(a);
  auto aligned =
      reinterpret_cast<uintptr_t>(*static_cast<void **>(descriptor[1]));
  int64_t offset = *static_cast<int64_t *>(descriptor[2]);
  auto size = [&](uint32_t d) {
    return *static_cast<int64_t *>(descriptor[3 + d]);
  };
  auto stride = [&](uint32_t d) {
    return *static_cast<int64_t *>(descriptor[3 + arg.rank + d]);
  };
  // Row-major sizes and strides, as the kernel indexes them.
  int64_t elements = 1;
  for (uint32_t d = arg.rank; d-- > 0;) {
    if (size(d) < 0) {
      fail(argument + " has a negative size");
      return false;
    }
    if (!fitsIn32Bits(k, a, "size", size(d)))
      return false;
    if (size(d) > 1 && stride(d) != elements) {
      fail(argument + " is not a row-major memref (stride " +
           std::to_string(stride(d)) + " in dimension " + std::to_string(d) +
           ", expected " + std::to_string(elements) + ")");
      return false;
    }
    if (__builtin_mul_overflow(elements, size(d), &elements)) {
      fail(argument + " has more elements than a 64-bit count holds");
      return false;
    }
  }
  for (uint32_t d = 0; d < arg.rank; ++d)
    words[arg.word + 1 + d] = static_cast<int32_t>(size(d));
  if (elements == 0) {
    words[arg.word] = 0;
    return true;
  }
  uint64_t byteOffset = 0;
  Allocation *allocation = findAllocation(s, aligned, byteOffset);
  if (!allocation) {
    fail(argument + " is not memory from attnVulkanMemAlloc");
    return false;
  }
  if (byteOffset % arg.elementBytes != 0) {
    fail(argument + " is not aligned to its elements");
    return false;
  }
  int64_t first, end;
  int64_t capacity = allocation->size / arg.elementBytes;
  if (__builtin_add_overflow(
          static_cast<int64_t>(byteOffset / arg.elementBytes), offset,
          &first) ||
      first < 0 || __builtin_add_overflow(first, elements, &end) ||
      end > capacity) {
    fail(argument + " reaches past the end of its device allocation (" +
         std::to_string(allocation->size) + " bytes)" +
         (first < 0 ? ": it starts before the allocation" : ""));
    return false;
  }
  if (!fitsIn32Bits(k, a, "element extent", end))
    return false;
  words[arg.word] = static_cast<int32_t>(first);
  buffer = {allocation->buffer, 0, VK_WHOLE_SIZE};
  return true;
}

/// Fills the params words and buffer descriptors of a launch from the
/// host's kernel parameters; false with the error set.
bool marshal(State &s, const Kernel &k, void **params,
             std::vector<VkDescriptorBufferInfo> &buffers) {
  auto *words = static_cast<int32_t *>(s.paramsMapped);
  std::memset(words, 0, k.abi.paramsWords * 4ull);
  buffers.assign(k.abi.paramsBinding + 1, VkDescriptorBufferInfo{});
  size_t p = 0;
  for (size_t a = 0; a < k.abi.args.size(); ++a) {
    const abi::KernelArg &arg = k.abi.args[a];
    switch (arg.kind) {
    case abi::ArgKind::Buffer:
      if (!marshalBuffer(s, k, a, params + p, words, buffers[arg.binding]))
        return false;
      p += 3 + 2 * size_t(arg.rank);
      break;
    case abi::ArgKind::Index: {
      int64_t value = *static_cast<int64_t *>(params[p++]);
      if (!fitsIn32Bits(k, a, "index", value))
        return false;
      words[arg.word] = static_cast<int32_t>(value);
      break;
    }
    case abi::ArgKind::I32:
      words[arg.word] = *static_cast<int32_t *>(params[p++]);
      break;
    case abi::ArgKind::F32:
      std::memcpy(&words[arg.word], params[p++], 4);
      break;
    case abi::ArgKind::I1:
      words[arg.word] = *static_cast<uint8_t *>(params[p++]) & 1;
      break;
    default:
      fail("kernel " + k.abi.name + " has an argument of unknown kind");
      return false;
    }
  }
  buffers[k.abi.paramsBinding] = {s.params.buffer, 0,
                                  k.abi.paramsWords * 4ull};
  return true;
}

} // namespace

extern "C" {

bool attnVulkanInit() {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  return ready();
}

bool attnVulkanHasError() {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  return state().errorPending;
}

const char *attnVulkanTakeError() {
  static thread_local std::string taken;
  std::lock_guard<std::recursive_mutex> lock(mutex());
  State &s = state();
  if (!s.errorPending)
    return nullptr;
  taken = s.error;
  s.errorPending = false;
  return taken.c_str();
}

void attnVulkanFail(const char *message) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  fail(message ? message : "unknown error");
}

bool attnVulkanDeviceLimits(AttnVulkanDeviceLimits *limits) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  if (!limits || !ready())
    return false;
  const State &s = state();
  std::memset(limits, 0, sizeof(*limits));
  std::snprintf(limits->deviceName, sizeof(limits->deviceName), "%s",
                s.properties.deviceName);
  const VkPhysicalDeviceLimits &l = s.properties.limits;
  limits->maxComputeSharedMemorySize = l.maxComputeSharedMemorySize;
  limits->maxComputeWorkGroupInvocations = l.maxComputeWorkGroupInvocations;
  for (int d = 0; d < 3; ++d)
    limits->maxComputeWorkGroupSize[d] = l.maxComputeWorkGroupSize[d];
  limits->subgroupSize = s.subgroupSize;
  limits->maxStorageBufferRange = l.maxStorageBufferRange;
  limits->features = s.features;
  return true;
}

void attnVulkanSetKernelTiming(bool enable) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  State &s = state();
  s.milliseconds = 0;
  s.timing = false;
  if (!enable || !ready())
    return;
  if (!s.timestamps) {
    fail("kernel timing needs timestamps, which the compute queue of this "
         "Vulkan device lacks");
    return;
  }
  s.timing = true;
}

double attnVulkanKernelMilliseconds() {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  State &s = state();
  double total = s.milliseconds;
  s.milliseconds = 0;
  return total;
}

void *attnVulkanModuleLoad(void *data, size_t size) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  if (!ready())
    return nullptr;
  State &s = state();
  abi::KernelBinary binary;
  std::string error;
  if (!abi::decodeKernelBinary(data, size, binary, error)) {
    fail(error);
    return nullptr;
  }
  if (!checkKernelDescriptions(binary))
    return nullptr;
  if (uint32_t missing = binary.features & ~s.features) {
    fail(std::string("the kernels need device features that Vulkan device '") +
         s.properties.deviceName + "' lacks: " + abi::featureNames(missing));
    return nullptr;
  }
  for (const abi::Kernel &k : binary.kernels)
    if (!checkLimits(s, k))
      return nullptr;
  if (!checkEntryPoints(binary))
    return nullptr;
  auto *module = new Module();
  s.modules.insert(module);
  VkShaderModuleCreateInfo shader{};
  shader.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
  shader.codeSize = binary.spirv.size() * 4;
  shader.pCode = binary.spirv.data();
  if (!check(s.api.vkCreateShaderModule(s.device, &shader, nullptr,
                                        &module->shader),
             "vkCreateShaderModule")) {
    destroyModule(s, module);
    return nullptr;
  }
  for (abi::Kernel &k : binary.kernels) {
    auto kernel = std::make_unique<Kernel>();
    kernel->abi = std::move(k);
    s.kernels.insert(kernel.get());
    module->kernels.push_back(std::move(kernel));
    if (!createKernel(s, *module, *module->kernels.back())) {
      destroyModule(s, module);
      return nullptr;
    }
  }
  // The validation layer reports without failing the call: a module it
  // found fault with is not loaded either.
  if (s.errorPending) {
    destroyModule(s, module);
    return nullptr;
  }
  return module;
}

void attnVulkanModuleUnload(void *module) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  State &s = state();
  if (module && s.modules.count(module))
    destroyModule(s, static_cast<Module *>(module));
}

void *attnVulkanModuleGetFunction(void *module, const char *name) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  State &s = state();
  if (!module || !ready())
    return nullptr;
  if (!s.modules.count(module)) {
    fail("not a module of attn's Vulkan layer");
    return nullptr;
  }
  for (auto &k : static_cast<Module *>(module)->kernels)
    if (k->abi.name == name)
      return k.get();
  fail(std::string("the Vulkan module has no kernel ") + (name ? name : ""));
  return nullptr;
}

void attnVulkanLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                            intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                            intptr_t blockZ, int32_t sharedMemBytes, void *,
                            void **params, void **, size_t paramsCount) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  State &s = state();
  if (!function || !ready())
    return;
  if (!s.kernels.count(function)) {
    fail("not a kernel of attn's Vulkan layer");
    return;
  }
  const Kernel &k = *static_cast<const Kernel *>(function);
  std::string name = "kernel " + k.abi.name;
  if (paramsCount != k.abi.hostParameterCount()) {
    fail(name + " was launched with " + std::to_string(paramsCount) +
         " parameters, its ABI takes " +
         std::to_string(k.abi.hostParameterCount()));
    return;
  }
  intptr_t block[3] = {blockX, blockY, blockZ};
  for (int d = 0; d < 3; ++d)
    if (block[d] != static_cast<intptr_t>(k.abi.workgroupSize[d])) {
      fail(name + " was launched with block size " + std::to_string(blockX) +
           "x" + std::to_string(blockY) + "x" + std::to_string(blockZ) +
           ", but Vulkan compiled it for " +
           std::to_string(k.abi.workgroupSize[0]) + "x" +
           std::to_string(k.abi.workgroupSize[1]) + "x" +
           std::to_string(k.abi.workgroupSize[2]));
      return;
    }
  if (sharedMemBytes != 0) {
    fail(name + " asks for dynamic shared memory, which Vulkan kernels "
                "declare statically");
    return;
  }
  intptr_t grid[3] = {gridX, gridY, gridZ};
  for (int d = 0; d < 3; ++d)
    if (grid[d] < 0 ||
        static_cast<uint64_t>(grid[d]) >
            s.properties.limits.maxComputeWorkGroupCount[d]) {
      fail(name + " was launched with " + std::to_string(grid[d]) +
           " workgroups in dimension " + std::to_string(d) +
           ", more than the device's " +
           std::to_string(s.properties.limits.maxComputeWorkGroupCount[d]) +
           " (maxComputeWorkGroupCount)");
      return;
    }
  if (gridX == 0 || gridY == 0 || gridZ == 0)
    return;
  std::vector<VkDescriptorBufferInfo> buffers;
  if (!marshal(s, k, params, buffers))
    return;

  if (!check(s.api.vkResetDescriptorPool(s.device, s.descriptorPool, 0),
             "vkResetDescriptorPool"))
    return;
  VkDescriptorSetAllocateInfo setInfo{};
  setInfo.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
  setInfo.descriptorPool = s.descriptorPool;
  setInfo.descriptorSetCount = 1;
  setInfo.pSetLayouts = &k.setLayout;
  VkDescriptorSet set;
  if (!check(s.api.vkAllocateDescriptorSets(s.device, &setInfo, &set),
             "vkAllocateDescriptorSets"))
    return;
  std::vector<VkWriteDescriptorSet> writes(buffers.size());
  for (uint32_t b = 0; b < buffers.size(); ++b) {
    if (!buffers[b].buffer) // a binding no argument uses: any buffer
      buffers[b] = {s.params.buffer, 0, VK_WHOLE_SIZE};
    writes[b].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
    writes[b].dstSet = set;
    writes[b].dstBinding = b;
    writes[b].descriptorCount = 1;
    writes[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[b].pBufferInfo = &buffers[b];
  }
  s.api.vkUpdateDescriptorSets(s.device, writes.size(), writes.data(), 0,
                               nullptr);

  if (!check(s.api.vkResetCommandBuffer(s.commands, 0),
             "vkResetCommandBuffer"))
    return;
  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  if (!check(s.api.vkBeginCommandBuffer(s.commands, &begin),
             "vkBeginCommandBuffer"))
    return;
  bool timed = s.timing && s.queryPool;
  if (timed) {
    s.api.vkCmdResetQueryPool(s.commands, s.queryPool, 0, 2);
    s.api.vkCmdWriteTimestamp(s.commands, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                              s.queryPool, 0);
  }
  s.api.vkCmdBindPipeline(s.commands, VK_PIPELINE_BIND_POINT_COMPUTE,
                          k.pipeline);
  s.api.vkCmdBindDescriptorSets(s.commands, VK_PIPELINE_BIND_POINT_COMPUTE,
                                k.pipelineLayout, 0, 1, &set, 0, nullptr);
  s.api.vkCmdDispatch(s.commands, gridX, gridY, gridZ);
  if (timed)
    s.api.vkCmdWriteTimestamp(s.commands,
                              VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                              s.queryPool, 1);
  if (!check(s.api.vkEndCommandBuffer(s.commands), "vkEndCommandBuffer"))
    return;
  VkSubmitInfo submit{};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &s.commands;
  if (!check(s.api.vkResetFences(s.device, 1, &s.fence), "vkResetFences") ||
      !check(s.api.vkQueueSubmit(s.queue, 1, &submit, s.fence),
             "vkQueueSubmit") ||
      !check(s.api.vkWaitForFences(s.device, 1, &s.fence, VK_TRUE, UINT64_MAX),
             "vkWaitForFences"))
    return;
  if (static_cast<int32_t *>(s.paramsMapped)[k.abi.statusWord()] != 0) {
    fail(name + " had loops cut short by Vulkan device '" +
         s.properties.deviceName +
         "' (lavapipe ends the loops of a shader after 65,535 iterations "
         "in all): its results would be wrong; run smaller shapes on this "
         "device");
    return;
  }
  if (timed) {
    uint64_t stamps[2] = {0, 0};
    if (check(s.api.vkGetQueryPoolResults(
                  s.device, s.queryPool, 0, 2, sizeof(stamps), stamps,
                  sizeof(uint64_t),
                  VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
              "vkGetQueryPoolResults"))
      s.milliseconds += double(stamps[1] - stamps[0]) *
                        s.properties.limits.timestampPeriod * 1e-6;
  }
}

bool attnVulkanOwnsModule(void *module) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  return module && state().modules.count(module);
}

bool attnVulkanOwnsFunction(void *function) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  return function && state().kernels.count(function);
}

void *attnVulkanStreamCreate() {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  if (!ready())
    return nullptr;
  auto *marker = new Marker();
  state().markers.insert(marker);
  return marker;
}

/// Deletes a stream or event; a handle this layer did not create (another
/// layer's, or one destroyed before) is an error.
static void destroyMarker(void *handle, const char *kind) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  if (!handle)
    return;
  if (!state().markers.erase(handle)) {
    std::string api = std::string("attnVulkan") + kind;
    fail(api + "Destroy of a handle that " + api +
         "Create did not return (or destroyed before)");
    return;
  }
  delete static_cast<Marker *>(handle);
}

void attnVulkanStreamDestroy(void *stream) { destroyMarker(stream, "Stream"); }

void attnVulkanStreamSynchronize(void *) {}
void attnVulkanStreamWaitEvent(void *, void *) {}
void *attnVulkanEventCreate() { return attnVulkanStreamCreate(); }
void attnVulkanEventDestroy(void *event) { destroyMarker(event, "Event"); }
void attnVulkanEventSynchronize(void *) {}
void attnVulkanEventRecord(void *, void *) {}

void *attnVulkanMemAlloc(uint64_t sizeBytes, void *, bool) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  if (sizeBytes == 0 || !ready())
    return nullptr;
  State &s = state();
  if (sizeBytes > s.properties.limits.maxStorageBufferRange) {
    fail("a device buffer of " + std::to_string(sizeBytes) +
         " bytes is more than Vulkan device '" + s.properties.deviceName +
         "' can bind (maxStorageBufferRange = " +
         std::to_string(s.properties.limits.maxStorageBufferRange) + ")");
    return nullptr;
  }
  Allocation allocation;
  void *mapped = nullptr;
  // Whole words, so that 8- and 16-bit elements may be accessed in words.
  if (!createAllocation(s, (sizeBytes + 3) / 4 * 4, allocation, mapped))
    return nullptr;
  s.allocations[reinterpret_cast<uintptr_t>(mapped)] = allocation;
  return mapped;
}

void attnVulkanMemFree(void *ptr, void *) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  State &s = state();
  if (!ptr || !s.initialized)
    return;
  auto it = s.allocations.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == s.allocations.end()) {
    fail("attnVulkanMemFree of memory that attnVulkanMemAlloc did not "
         "return");
    return;
  }
  destroyAllocation(s, it->second);
  s.allocations.erase(it);
}

void attnVulkanMemcpy(void *dst, void *src, size_t sizeBytes, void *) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  if (sizeBytes && ready())
    std::memmove(dst, src, sizeBytes);
}

void attnVulkanMemset32(void *dst, unsigned int value, size_t count, void *) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  if (!count || !ready())
    return;
  auto *words = static_cast<uint32_t *>(dst);
  std::fill(words, words + count, value);
}

void attnVulkanMemset16(void *dst, unsigned short value, size_t count,
                        void *) {
  std::lock_guard<std::recursive_mutex> lock(mutex());
  if (!count || !ready())
    return;
  auto *halves = static_cast<uint16_t *>(dst);
  std::fill(halves, halves + count, value);
}

// Host memory is what the host already reads and writes: registering it
// with the device is not needed, as device memory is mapped.
void attnVulkanMemHostRegister(void *, uint64_t) {}
void attnVulkanMemHostUnregister(void *) {}
void attnVulkanMemHostRegisterMemRef(int64_t, void *, int64_t) {}
void attnVulkanMemHostUnregisterMemRef(int64_t, void *, int64_t) {}

void attnVulkanSetDefaultDevice(int32_t device) {
  if (device != 0)
    attnVulkanFail(("only the device that ATTN_VULKAN_DEVICE picks can be "
                    "used, asked for device " +
                    std::to_string(device))
                       .c_str());
}

} // extern "C"
