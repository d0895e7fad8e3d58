# Sourced by the scripts of ci/: where cargo puts what it builds, what the
# plugin's file is called on each system, and how each variant of the plugin
# is built. Works in Git Bash on Windows.
#
# Variants (one plugin per emulator; see docs/src/design/platforms.md):
#   standard      CraftOS-PC v2.8 (plugin ABI 12, Lua 5.2): target/
#   accelerated   CraftOS-PC Accelerated v2.8 (plugin ABI 11, LuaJIT 2.1):
#                 target/accelerated/ (the file has the same name)
#   wait-in-lua   a test build: the standard plugin waiting the way the
#                 Accelerated one does, for the embedded host's tests

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

# The target directory of VARIANT's builds.
variant_target_dir() {
    case "$1" in
        standard) cargo_target_dir ;;
        accelerated | wait-in-lua) echo "$(cargo_target_dir)/$1" ;;
        *) echo "unknown variant $1 (standard, accelerated, wait-in-lua)" >&2; return 2 ;;
    esac
}

# cargo_variant VARIANT COMMAND [ARGS...]: `cargo COMMAND` for VARIANT's
# plugin (build, clippy, zigbuild...), with ARGS (--release, --target T...).
# The standard plugin is built together with the binding crate, so that its
# features are exactly those of `cargo build --workspace` (ci/test): the
# same command gives the same file, whichever script ran it.
#
# Both variants have cluster mode (cargo feature `cluster`) unless
# NO_CLUSTER=1 (ci/cross-check's macOS builds: zig has no macOS frameworks).
cargo_variant() {
    local variant=$1 command=$2 dir cluster=,cluster
    shift 2
    dir=$(variant_target_dir "$variant") || return
    [ "${NO_CLUSTER:-0}" = 1 ] && cluster=
    case "$variant" in
        standard)
            if [ -n "$cluster" ]; then
                cargo "$command" -p phoenix-events -p phoenix-events-binding "$@"
            else
                cargo "$command" -p phoenix-events --no-default-features --features standard "$@"
            fi ;;
        accelerated)
            cargo "$command" -p phoenix-events --no-default-features --features "accelerated$cluster" \
                --target-dir "$dir" "$@" ;;
        wait-in-lua) cargo "$command" -p phoenix-events --features wait-in-lua --target-dir "$dir" "$@" ;;
    esac
}

# built_plugin VARIANT PROFILE [TRIPLE]: the path of the plugin file that
# `cargo_variant VARIANT build` made (with --target TRIPLE if given).
built_plugin() {
    local dir
    dir=$(variant_target_dir "$1") || return
    if [ -n "${3:-}" ]; then dir="$dir/$3"; fi
    echo "$dir/$2/$(plugin_file_name "${3:-}")"
}
