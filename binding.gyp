{
  "variables": {
    "napi_build_version%": "8"
  },
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_SYMBOLS_PRIVATE_EXTERN": "YES"
    },
    "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] } },
    "defines": [
      "NAPI_VERSION=<(napi_build_version)",
      "NAPI_CPP_EXCEPTIONS",
      "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
      "NODE_ADDON_API_DISABLE_DEPRECATED"
    ],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "configurations": {
      "Release": {
        "cflags": ["-O3", "-fvisibility=hidden"],
        "cflags_cc": ["-O3", "-fvisibility=hidden"]
      },
      "Debug": {
        "defines": ["RINGPORT_DEBUG"],
        "cflags": ["-O0", "-g"],
        "cflags_cc": ["-O0", "-g"]
      }
    }
  },
  "targets": [
    {
      "target_name": "ringport",
      "sources": [
        "native/addon.cc",
        "native/broadcast.cc",
        "native/broadcast_addon.cc",
        "native/endpoint.cc",
        "native/env.cc",
        "native/port.cc",
        "native/uv_handle.cc"
      ]
    }
  ]
}
