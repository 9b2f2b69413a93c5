# lit configuration of attn's tests.

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "ATTN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attn_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py",
                   "lit.site.cfg.py", "Inputs", "lib"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%attn_lib_dir", config.attn_lib_dir))
# LLVM's libraries: libomp and mlir-runner's utility libraries.
config.substitutions.append(
    ("%llvm_lib_dir", os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")))
config.substitutions.append(("%attn_obj_root", config.attn_obj_root))
config.substitutions.append(("%attn_src_root", config.attn_src_root))
config.substitutions.append(("%python", config.python_executable))
# In a sanitizer build (scripts/sanitize.sh) the plugins are instrumented and
# upstream mlir-opt is not: it loads the sanitizer runtime first.
mlir_opt_upstream = os.path.join(config.llvm_tools_dir, "mlir-opt")
if config.attn_sanitizer_runtime:
    mlir_opt_upstream = "env LD_PRELOAD=%s %s" % (
        config.attn_sanitizer_runtime, mlir_opt_upstream)
    config.available_features.add("asan")
config.substitutions.append(("%mlir_opt_upstream", mlir_opt_upstream))
# Python that loads attn AOT libraries with ctypes: in a sanitizer build they
# link the instrumented runtime, so the ASan runtime must be loaded first.
python_aot = config.python_executable
if config.attn_sanitizer_runtime:
    python_aot = "env LD_PRELOAD=%s %s" % (config.attn_sanitizer_runtime,
                                           python_aot)
# Before %python, which is a prefix of it.
config.substitutions.insert(0, ("%python_aot", python_aot))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# `not` and `count` are substituted only after a pipe; at the start of a RUN
# line they are found on PATH, as in upstream MLIR's lit configuration.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.attn_tools_dir, append_path=True)

tool_dirs = [config.attn_tools_dir, config.llvm_tools_dir]
tools = ["attn-opt", "attn-run", "attn-aot", "attn-aot-call-fuzzer"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# Integration tests compare with float64 numpy: they need /usr/bin/python3
# with numpy.
try:
    subprocess.run([config.python_executable, "-c", "import numpy"],
                   check=True, capture_output=True)
    config.available_features.add("numpy")
except Exception:
    pass

# CPUs with AVX512-BF16 (vdpbf16ps) run the flash kernels' bf16 dot products;
# the others check that asking for them is a clear error.
try:
    with open("/proc/cpuinfo") as f:
        cpu_flags = set(f.read().split())
except OSError:
    cpu_flags = set()
if {"avx512_bf16", "avx512vl"} <= cpu_flags:
    config.available_features.add("avx512-bf16")

# Sequence-parallel tests run attn-run --distribute under mpirun (as root
# here, with more ranks than cores).
if config.attn_have_mpi.upper() in ("1", "ON", "TRUE", "YES") and \
        os.path.exists(config.attn_mpirun):
    config.available_features.add("mpi")
    config.substitutions.append(
        ("%mpirun", config.attn_mpirun + " --allow-run-as-root --oversubscribe"))

# GPU compilation tests need ptxas from the CUDA toolkit.
if os.path.exists("/usr/local/cuda/bin/ptxas"):
    config.available_features.add("ptxas")

# Vulkan kernels are checked with spirv-val from Debian's spirv-tools.
if shutil.which("spirv-val"):
    config.available_features.add("spirv-tools")

# Vulkan execution tests run where a Vulkan device answers (on a machine
# without a GPU, Mesa's lavapipe). ATTN_VULKAN_DEVICE picks one, as in the
# runtime.
def has_vulkan_device():
    """vulkaninfo's summary when it lists a device, else ""."""
    if not shutil.which("vulkaninfo"):
        return ""
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    try:
        out = subprocess.run(["vulkaninfo", "--summary"], capture_output=True,
                             text=True, timeout=60, env=env).stdout
    except Exception:
        return ""
    return out if "deviceName" in out else ""


vulkan_devices = has_vulkan_device()
if vulkan_devices:
    config.available_features.add("vulkan-device")
    # Mesa's lavapipe (llvmpipe), whose limits some tests exercise.
    if "llvmpipe" in vulkan_devices:
        config.available_features.add("lavapipe")
for name in ("XDG_RUNTIME_DIR", "ATTN_VULKAN_DEVICE", "ATTN_STRATEGIES"):
    if name in os.environ:
        config.environment[name] = os.environ[name]

# GPU execution tests run only where a CUDA device answers.
if os.path.exists("/dev/nvidia0") or os.environ.get("ATTN_CUDA_DEVICE"):
    config.available_features.add("cuda-device")

# Keep tests from oversubscribing the machine.
config.environment["OMP_NUM_THREADS"] = os.environ.get("OMP_NUM_THREADS", "2")
