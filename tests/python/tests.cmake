# The Python bundle loader (python/v2xsync_bundle.py) and the bundle sync --bundle writes, checked
# with pytest under Debian's python3 (/usr/bin/python3: python3-numpy, -pytest, -lz4, -pil,
# -jsonschema from .ci/install-deps), not whichever python3 comes first on PATH. Included from
# tests/CMakeLists.txt, so CMAKE_CURRENT_SOURCE_DIR is tests/ and VXS_SHARED_DIR is ../shared as
# the C tests see it. A missing Python module or reference tool (ffmpeg, xxhsum) skips the tests
# needing it with the reason; a missing pytest or /usr/bin/python3 skips the whole test (77).
set(VXS_PYTHON3 /usr/bin/python3)
set(VXS_PYTEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/python)
if(EXISTS ${VXS_PYTHON3})
  add_test(NAME Python.BundleLoader
    COMMAND sh -c "if ! \"$0\" -c 'import pytest' 2>/dev/null; then echo \"SKIPPED: $0 has no pytest (Debian python3-pytest; .ci/install-deps)\"; exit 77; fi; exec \"$0\" -m pytest -q -p no:cacheprovider \"$1\""
      ${VXS_PYTHON3} ${VXS_PYTEST_DIR})
else()
  add_test(NAME Python.BundleLoader
    COMMAND sh -c "echo \"SKIPPED: $0 not found (Debian python3)\"; exit 77" ${VXS_PYTHON3})
endif()
set_tests_properties(Python.BundleLoader PROPERTIES
  ENVIRONMENT "V2XSYNC=$<TARGET_FILE:v2xsync>;PYTHONPATH=${PROJECT_SOURCE_DIR}/python;VXS_SHARED=${VXS_SHARED_DIR};PYTHONDONTWRITEBYTECODE=1"
  SKIP_RETURN_CODE 77
  TIMEOUT 600)
