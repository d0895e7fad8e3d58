# Sourced by the scripts of ci/: where cargo puts what it builds, and what
# the plugin's file is called on each system. Works in Git Bash on Windows.

# Cargo's target directory, as `cargo metadata` reports it: CARGO_TARGET_DIR,
# `build.target-dir` of a cargo config, or target/ of the workspace. An
# absolute path (a Unix-style one in Git Bash).
cargo_target_dir() {
    local dir
    dir=$(cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    [ -n "$dir" ] || { echo "cannot read cargo's target directory" >&2; return 1; }
    dir=${dir//\\\\/\\} # JSON escapes Windows' backslashes
    if command -v cygpath >/dev/null 2>&1; then dir=$(cygpath -u "$dir"); fi
    printf '%s\n' "$dir"
}

# The plugin's file name for a Rust target triple (default: this system's).
plugin_file_name() {
    case "${1:-$(uname -s)}" in
        *-apple-darwin | Darwin*) echo libphoenix_events.dylib ;;
        *-windows-* | MINGW* | MSYS* | CYGWIN*) echo phoenix_events.dll ;;
        *) echo libphoenix_events.so ;;
    esac
}

# Executables' suffix on this system.
exe_suffix() {
    case "$(uname -s)" in MINGW* | MSYS* | CYGWIN*) echo .exe ;; *) echo "" ;; esac
}
