# The Python tests, checked with pytest under Debian's python3 (/usr/bin/python3: python3-numpy,
# -pytest, -lz4, -pil, -jsonschema from .ci/install-deps), not whichever python3 comes first on
# PATH: the bundle loader (python/v2xsync_bundle.py) and the bundle sync --bundle writes
# (Python.BundleLoader); the QA report's document, page and checks (Python.Report). Included from
# tests/CMakeLists.txt, so CMAKE_CURRENT_SOURCE_DIR is tests/ and VXS_SHARED_DIR is ../shared as
# the C tests see it. A missing Python module or reference tool (ffmpeg, xxhsum, chromium) skips
# the tests needing it with the reason; a missing pytest or /usr/bin/python3 skips the whole
# test (77).
set(VXS_PYTHON3 /usr/bin/python3)
set(VXS_PYTEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/python)
foreach(pt "BundleLoader;test_bundle.py"
           "Report;test_report_json.py test_check.py test_report_html.py")
  list(GET pt 0 name)
  list(GET pt 1 files)
  set(paths "")
  foreach(f IN ITEMS ${files})
    string(REPLACE " " ";" fl "${f}")
    foreach(g IN LISTS fl)
      list(APPEND paths "${VXS_PYTEST_DIR}/${g}")
    endforeach()
  endforeach()
  if(EXISTS ${VXS_PYTHON3})
    add_test(NAME Python.${name}
      COMMAND sh -c "if ! \"$0\" -c 'import pytest' 2>/dev/null; then echo \"SKIPPED: $0 has no pytest (Debian python3-pytest; .ci/install-deps)\"; exit 77; fi; exec \"$0\" -m pytest -q -p no:cacheprovider \"$@\""
        ${VXS_PYTHON3} ${paths})
  else()
    add_test(NAME Python.${name}
      COMMAND sh -c "echo \"SKIPPED: $0 not found (Debian python3)\"; exit 77" ${VXS_PYTHON3})
  endif()
  set_tests_properties(Python.${name} PROPERTIES
    ENVIRONMENT "V2XSYNC=$<TARGET_FILE:v2xsync>;PYTHONPATH=${PROJECT_SOURCE_DIR}/python;VXS_SHARED=${VXS_SHARED_DIR};PYTHONDONTWRITEBYTECODE=1"
    SKIP_RETURN_CODE 77
    TIMEOUT 900)
endforeach()
