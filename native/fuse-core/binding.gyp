{
  "targets": [
    {
      "target_name": "layoutfs_fuse",
      "sources": [
        "src/addon.c",
        "src/session.c",
        "src/dir-listings.c",
        "src/reply.c",
        "src/mount.c",
        "src/blob-handles.c",
        "src/notify.c",
        "src/file-batch.c",
        "src/dir-watch.c"
      ],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-O3", "-fno-exceptions"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11", "-pthread"],
      "ldflags": ["-pthread"],
      "libraries": ["-lpthread"]
    }
  ]
}
