//! Reads a built plugin (ELF, Mach-O or PE, whatever the machine doing the
//! reading) and checks what the emulator depends on: it exports exactly the
//! entry points, and takes Lua from the emulator at load time rather than
//! bringing its own — the Lua API of the emulator it is built for (the
//! standard CraftOS-PC's Lua 5.2, or CraftOS-PC Accelerated's LuaJIT), from
//! that emulator's library on Windows. Used by the tests, by
//! `plugin-inspect` and by `ci/cross-check`.
use object::read::macho::MachOFatFile32;
use object::{Object, ObjectSymbol};
use std::fmt;
use std::path::Path;

/// What the emulator looks up in a plugin, and nothing else may be exported.
pub const ENTRY_POINTS: [&str; 3] = ["luaopen_syscall", "plugin_deinit", "plugin_init"];

/// Symbols that a linker defines in every Mach-O dylib it makes (zig's
/// exports them): they are not part of the plugin's own surface.
pub const LINKER_MADE: [&str; 2] = ["__dso_handle", "_mh_dylib_header"];

/// The emulator a plugin is built for, which decides the Lua it binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// CraftOS-PC v2.8: Lua 5.2 (`lua52.dll` on Windows).
    Standard,
    /// CraftOS-PC Accelerated v2.8: LuaJIT 2.1, the Lua 5.1 API
    /// (`luajit51.dll` on Windows).
    Accelerated,
}

/// Exported by CraftOS-PC's Lua 5.2 and not by LuaJIT (compared on the
/// two emulators' libraries).
const LUA52_ONLY: &[&str] = &[
    "luaL_argerror_",
    "luaL_buffinitsize",
    "luaL_checkunsigned",
    "luaL_checkversion_",
    "luaL_getsubtable",
    "luaL_len",
    "luaL_optunsigned",
    "luaL_prepbuffsize",
    "luaL_pushresultsize",
    "luaL_requiref",
    "luaL_tolstring",
    "lua_absindex",
    "lua_arith",
    "lua_callk",
    "lua_compare",
    "lua_dump53",
    "lua_externalerror",
    "lua_getctx",
    "lua_getglobal",
    "lua_getuservalue",
    "lua_ident",
    "lua_len",
    "lua_pcallk",
    "lua_pushsubstring",
    "lua_pushunsigned",
    "lua_rawgetp",
    "lua_rawlen",
    "lua_rawsetp",
    "lua_setdisableflags",
    "lua_setglobal",
    "lua_setlockstate",
    "lua_setuservalue",
    "lua_tounsignedx",
    "lua_yieldk",
];

/// Exported by CraftOS-PC Accelerated's LuaJIT and not by Lua 5.2.
const LUAJIT_ONLY: &[&str] = &[
    "luaL_findtable",
    "luaL_loadbuffer",
    "luaL_loadfile",
    "luaL_prepbuffer",
    "luaL_register",
    "luaL_typerror",
    "lua_call",
    "lua_cpcall",
    "lua_equal",
    "lua_getfenv",
    "lua_lessthan",
    "lua_loadx",
    "lua_objlen",
    "lua_pcall",
    "lua_setfenv",
    "lua_tointeger",
    "lua_tonumber",
    "lua_yield",
];

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Standard => "the standard CraftOS-PC",
            Variant::Accelerated => "CraftOS-PC Accelerated",
        }
    }

    /// The DLL the Windows emulator's Lua lives in (Release build).
    pub fn windows_lua_dll(self) -> &'static str {
        match self {
            Variant::Standard => "lua52.dll",
            Variant::Accelerated => "luajit51.dll",
        }
    }

    /// The Lua API, as the checks name it.
    pub fn lua_api(self) -> &'static str {
        match self {
            Variant::Standard => "Lua 5.2 API",
            Variant::Accelerated => "LuaJIT (Lua 5.1) API",
        }
    }

    /// Functions only this variant's Lua has, and only the other's.
    fn only_ours_and_theirs(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Variant::Standard => (LUA52_ONLY, LUAJIT_ONLY),
            Variant::Accelerated => (LUAJIT_ONLY, LUA52_ONLY),
        }
    }
}

/// The DLL that the standard Windows emulator's Lua lives in (Release build).
pub const WINDOWS_LUA_DLL: &str = "lua52.dll";

/// The container format of a shared library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Elf,
    MachO,
    Pe,
}

/// Where an undefined symbol is to be found when the library is loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A named library (PE import table, Mach-O two-level namespace).
    Library(String),
    /// Mach-O: searched in everything already loaded (flat namespace or
    /// `-undefined dynamic_lookup`).
    DynamicLookup,
    /// ELF: searched in the global scope; the format names no library.
    AnyLoaded,
}

/// One symbol the library needs from elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    pub name: String,
    pub source: Source,
}

/// What a shared library offers and needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub format: Format,
    /// As `object` names it, e.g. `X86_64`, `Aarch64`.
    pub architecture: String,
    /// Exported symbol names, sorted (Mach-O's leading `_` removed).
    pub exports: Vec<String>,
    /// Symbols bound at load time, sorted by name.
    pub imports: Vec<Import>,
    /// Defined symbols (exported or not) that belong to a Lua runtime: a
    /// plugin must have none.
    pub own_lua_symbols: Vec<String>,
}

/// One named check of a plugin, with what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// Reads the library at `path`. A universal (fat) Mach-O file gives one
/// artifact per architecture; any other file gives one.
pub fn inspect_all(path: &Path) -> Result<Vec<Artifact>, String> {
    let in_file = |e: &dyn fmt::Display| format!("{}: {e}", path.display());
    let data = std::fs::read(path).map_err(|e| in_file(&e))?;
    let Ok(fat) = MachOFatFile32::parse(&*data) else {
        return Ok(vec![read(&data).map_err(|e| in_file(&e))?]);
    };
    fat.arches()
        .iter()
        .map(|arch| {
            let slice =
                object::read::macho::FatArch::data(arch, &*data).map_err(|e| in_file(&e))?;
            read(slice).map_err(|e| in_file(&e))
        })
        .collect()
}

/// Reads a single-architecture library at `path`.
pub fn inspect(path: &Path) -> Result<Artifact, String> {
    let mut all = inspect_all(path)?;
    match all.len() {
        1 => Ok(all.remove(0)),
        n => Err(format!(
            "{}: a universal file with {n} architectures",
            path.display()
        )),
    }
}

fn read(data: &[u8]) -> Result<Artifact, String> {
    let text = |e: object::Error| e.to_string();
    let file = object::File::parse(data).map_err(text)?;
    let format = match file.format() {
        object::BinaryFormat::Elf => Format::Elf,
        object::BinaryFormat::MachO => Format::MachO,
        object::BinaryFormat::Pe => Format::Pe,
        other => {
            return Err(format!(
                "a {other:?} file, not an ELF, Mach-O or PE library"
            ))
        }
    };
    let mut exports = Vec::new();
    for export in file.exports().map_err(text)? {
        exports.push(name_or_ordinal(format, export.map_err(text)?.name()));
    }
    exports.sort();
    exports.dedup();
    let mut imports = Vec::new();
    for found in file.imports().map_err(text)? {
        imports.push(import(format, &found.map_err(text)?));
    }
    imports.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Artifact {
        format,
        architecture: format!("{:?}", file.architecture()),
        exports,
        imports,
        own_lua_symbols: own_lua_symbols(&file, format),
    })
}

fn symbol_name(format: Format, raw: &[u8]) -> String {
    let raw = match format {
        Format::MachO => raw.strip_prefix(b"_").unwrap_or(raw),
        Format::Elf | Format::Pe => raw,
    };
    String::from_utf8_lossy(raw).into_owned()
}

fn name_or_ordinal(format: Format, name: object::NameOrOrdinal<&[u8]>) -> String {
    match name {
        object::NameOrOrdinal::Name(name) => symbol_name(format, name),
        object::NameOrOrdinal::Ordinal(n) => format!("#{n}"),
    }
}

fn import(format: Format, import: &object::Import<'_>) -> Import {
    let name = name_or_ordinal(format, import.name());
    let library = String::from_utf8_lossy(import.library()).into_owned();
    let source = match format {
        Format::Elf => Source::AnyLoaded,
        Format::MachO if library.is_empty() && macho_dynamic_lookup(import.flags()) => {
            Source::DynamicLookup
        }
        Format::MachO | Format::Pe => Source::Library(library),
    };
    Import { name, source }
}

/// Whether a Mach-O import without a library is looked up in everything
/// loaded (rather than in the library itself or the main executable).
fn macho_dynamic_lookup(flags: object::ImportFlags<'_>) -> bool {
    use object::macho;
    match flags {
        object::ImportFlags::MachOBind { dylib, .. } => {
            dylib == macho::BIND_SPECIAL_DYLIB_FLAT_LOOKUP
        }
        object::ImportFlags::MachO { n_desc, .. } => {
            n_desc.library() == macho::DYNAMIC_LOOKUP_ORDINAL
        }
        _ => false,
    }
}

fn is_lua_runtime_symbol(name: &str) -> bool {
    ["lua_", "luaL_", "luaV_", "luaD_", "luaH_"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

fn own_lua_symbols(file: &object::File<'_>, format: Format) -> Vec<String> {
    let mut names: Vec<String> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.is_definition())
        .filter_map(|s| s.name_bytes().ok().map(|n| symbol_name(format, n)))
        // A linker's branch-range stubs towards an import (zig, arm64).
        .filter(|n| !n.ends_with("__thunk"))
        .filter(|n| is_lua_runtime_symbol(n))
        .collect();
    names.sort();
    names.dedup();
    names
}

impl Artifact {
    /// The exports that are the plugin's own (without [`LINKER_MADE`]).
    pub fn own_exports(&self) -> Vec<&str> {
        self.exports
            .iter()
            .map(String::as_str)
            .filter(|e| self.format != Format::MachO || !LINKER_MADE.contains(e))
            .collect()
    }

    /// The undefined symbols of the Lua C API.
    pub fn lua_imports(&self) -> Vec<&Import> {
        self.imports
            .iter()
            .filter(|i| is_lua_runtime_symbol(&i.name))
            .collect()
    }

    /// The checks a plugin for the standard CraftOS-PC must pass: exactly
    /// the entry points exported, and Lua 5.2 bound from the emulator at
    /// load time.
    pub fn plugin_checks(&self) -> Vec<Check> {
        self.checks(Variant::Standard, true)
    }

    /// The checks a plugin for `variant`'s emulator must pass.
    pub fn plugin_checks_for(&self, variant: Variant) -> Vec<Check> {
        self.checks(variant, true)
    }

    /// As [`Artifact::plugin_checks_for`], but for a library made by a
    /// linker that ignores export lists (zig's Mach-O linker): besides the
    /// entry points only the toolchain's runtime symbols may be exported
    /// ([`is_toolchain_runtime`]); anything of the plugin's own code fails.
    pub fn plugin_checks_ignoring_extra_exports(&self, variant: Variant) -> Vec<Check> {
        self.checks(variant, false)
    }

    fn checks(&self, variant: Variant, exact_exports: bool) -> Vec<Check> {
        let lua = self.lua_imports();
        let own = self.own_exports();
        let exports = if exact_exports {
            Check {
                name: "exports exactly the entry points".into(),
                passed: own == ENTRY_POINTS,
                detail: format!("exports {:?}", self.exports),
            }
        } else {
            let extra: Vec<&&str> = own.iter().filter(|e| !ENTRY_POINTS.contains(e)).collect();
            let foreign: Vec<&&&str> = extra.iter().filter(|e| !is_toolchain_runtime(e)).collect();
            Check {
                name: "exports the entry points and, of its own code, nothing else".into(),
                passed: ENTRY_POINTS.iter().all(|e| own.contains(e)) && foreign.is_empty(),
                detail: if foreign.is_empty() {
                    format!(
                        "{} more, all the toolchain's runtime: {extra:?}",
                        extra.len()
                    )
                } else {
                    format!("not the toolchain's: {foreign:?}")
                },
            }
        };
        let mut checks = vec![
            exports,
            Check {
                name: "brings no Lua runtime of its own".into(),
                passed: self.own_lua_symbols.is_empty(),
                detail: format!("defines {}", preview(&self.own_lua_symbols)),
            },
            Check {
                name: "needs the Lua C API from the emulator".into(),
                passed: lua.iter().any(|i| i.name == "lua_pushthread"),
                detail: format!("{} lua_* imports", lua.len()),
            },
            self.api_check(variant),
        ];
        let (name, wrong): (&str, Vec<&Import>) = match self.format {
            Format::Elf => ("Lua bound from the process (ELF undefined)", vec![]),
            Format::MachO => (
                "Lua bound by dynamic lookup (Mach-O -undefined dynamic_lookup)",
                lua.iter()
                    .copied()
                    .filter(|i| i.source != Source::DynamicLookup)
                    .collect(),
            ),
            Format::Pe => (
                match variant {
                    Variant::Standard => "Lua imported from lua52.dll (PE import table)",
                    Variant::Accelerated => "Lua imported from luajit51.dll (PE import table)",
                },
                lua.iter()
                    .copied()
                    .filter(|i| !matches!(&i.source, Source::Library(l) if l.eq_ignore_ascii_case(variant.windows_lua_dll())))
                    .collect(),
            ),
        };
        checks.push(Check {
            name: name.into(),
            passed: !lua.is_empty() && wrong.is_empty(),
            detail: if wrong.is_empty() {
                "every lua_* import".into()
            } else {
                format!("bound elsewhere: {:?}", preview(&wrong))
            },
        });
        checks
    }
}

impl Artifact {
    /// Which Lua API the imports are of: at least one function only
    /// `variant`'s Lua has (e.g. `lua_pcallk` for 5.2, `lua_pcall` for
    /// LuaJIT), none that only the other has. A plugin for the wrong
    /// emulator fails to load there (`undefined symbol: lua_yieldk`).
    fn api_check(&self, variant: Variant) -> Check {
        let (ours, theirs) = variant.only_ours_and_theirs();
        let names: Vec<&str> = self.lua_imports().iter().map(|i| i.name.as_str()).collect();
        let own: Vec<&&str> = names.iter().filter(|n| ours.contains(n)).collect();
        let foreign: Vec<&&str> = names.iter().filter(|n| theirs.contains(n)).collect();
        Check {
            name: format!("binds the {} of {}", variant.lua_api(), variant.name()),
            passed: !own.is_empty() && foreign.is_empty(),
            detail: if foreign.is_empty() {
                format!("imports {}", preview(&own))
            } else {
                format!("also imports the other API's {}", preview(&foreign))
            },
        }
    }
}

/// Whether an exported symbol belongs to the toolchain's runtime, which a
/// linker that ignores export lists exports along with the plugin: C++
/// `operator new`/`delete` (zig links its libc++ statically), Rust's
/// `rust_eh_personality` and symbols of Rust's `std`, `core` and `alloc`
/// (v0 mangling names the crate root, e.g. `_RNvNtCs…_3std9panicking…`).
pub fn is_toolchain_runtime(symbol: &str) -> bool {
    const OPERATORS: [&str; 4] = ["_Znw", "_Zna", "_Zdl", "_Zda"];
    const RUST_RUNTIME: [&str; 3] = ["_3std", "_4core", "_5alloc"];
    symbol == "rust_eh_personality"
        || OPERATORS.iter().any(|op| symbol.starts_with(op))
        || (symbol.starts_with("_R")
            && RUST_RUNTIME
                .iter()
                .any(|root| rust_crate_root(symbol) == Some(root)))
}

/// The crate root of a v0-mangled Rust symbol (`_3std` in
/// `_RNvNtCsg55jX0GwzBC_3std9panicking11EMPTY_PANIC`): the length-prefixed
/// name after the first `Cs<disambiguator>_`.
fn rust_crate_root(symbol: &str) -> Option<&str> {
    let after = &symbol[symbol.find("Cs")? + 2..];
    let name = &after[after.find('_')?..];
    let digits = name[1..].chars().take_while(char::is_ascii_digit).count();
    let length: usize = name[1..1 + digits].parse().ok()?;
    name.get(..1 + digits + length)
}

fn preview<T: fmt::Debug>(items: &[T]) -> String {
    let shown: Vec<String> = items.iter().take(5).map(|i| format!("{i:?}")).collect();
    match items.len() {
        n if n > 5 => format!("[{}, … {} more]", shown.join(", "), n - 5),
        _ => format!("[{}]", shown.join(", ")),
    }
}

impl fmt::Display for Artifact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "format: {:?} {}", self.format, self.architecture)?;
        writeln!(f, "exports ({}):", self.exports.len())?;
        for name in &self.exports {
            writeln!(f, "  {name}")?;
        }
        writeln!(f, "imports ({}):", self.imports.len())?;
        for import in &self.imports {
            let from = match &import.source {
                Source::Library(l) if l.is_empty() => "(no library named)".to_owned(),
                Source::Library(l) => l.clone(),
                Source::DynamicLookup => "(dynamic lookup)".to_owned(),
                Source::AnyLoaded => "(any loaded object)".to_owned(),
            };
            writeln!(f, "  {} <- {from}", import.name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::is_toolchain_runtime;

    #[test]
    fn toolchain_runtime_symbols_are_told_from_the_plugins_own() {
        for runtime in [
            "_Znwm",
            "_ZdlPvSt11align_val_t",
            "_ZdaPvm",
            "rust_eh_personality",
            "_RNvNtCsg55jX0GwzBC_3std9panicking11EMPTY_PANIC",
            "_RNvCs1a2b_4core3fmt",
        ] {
            assert!(is_toolchain_runtime(runtime), "{runtime}");
        }
        for own in [
            "_RNvCsAbC_22phoenix_events_binding7install",
            "_RNvNtCs9x_4mlua5state3new",
            "_RNvCsZ_8stdextra3foo",
            "luaopen_other",
            "_ZN6phoenix4shimE",
        ] {
            assert!(!is_toolchain_runtime(own), "{own}");
        }
    }
}
