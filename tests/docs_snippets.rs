//! The documentation cannot rot: every ```lua block of README.md and of the
//! book (docs/src/**/*.md) runs on computers of the embedded host, or says
//! why it cannot; every ```json block parses; every repository path the
//! documents name in backticks exists. The annotation scheme is described in
//! docs/src/testing/docs.md.
mod support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;

/// What a finished snippet prints: done, or failed with its error.
const DONE: &str = "@@snippet done";
const FAILED: &str = "@@snippet failed: ";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, CHANGELOG.md and every page of the book, in a stable order.
fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "md") {
                out.push(path);
            }
        }
    }
    let mut files = vec![root().join("README.md"), root().join("CHANGELOG.md")];
    walk(&root().join("docs/src"), &mut files);
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A fenced code block of a document.
struct Block {
    /// `file:line` of its opening fence.
    place: String,
    info: String,
    text: String,
    /// The line right before the opening fence, trimmed.
    before: String,
}

/// The fenced code blocks of `source` (backtick or tilde fences, at any
/// indentation, closed by a fence at least as long), and the text outside
/// them.
fn split_blocks(file: &str, source: &str) -> (Vec<Block>, String) {
    let mut blocks = Vec::new();
    let mut prose = String::new();
    let mut open: Option<(char, usize, usize, Block)> = None;
    let mut previous = "";
    for (index, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let fence_len = fence_char.map_or(0, |c| trimmed.chars().take_while(|&x| x == c).count());
        match open.take() {
            None if fence_len >= 3 => {
                let c = fence_char.unwrap();
                let info = trimmed[fence_len..].trim().to_string();
                let block = Block {
                    place: format!("{file}:{}", index + 1),
                    info,
                    text: String::new(),
                    before: previous.trim().to_string(),
                };
                open = Some((c, fence_len, indent, block));
            }
            None => {
                prose.push_str(line);
                prose.push('\n');
            }
            Some((c, len, indent_of_fence, mut block)) => {
                let closes = fence_char == Some(c)
                    && fence_len >= len
                    && trimmed[fence_len..].trim().is_empty();
                if closes {
                    blocks.push(block);
                } else {
                    let strip = indent.min(indent_of_fence);
                    block.text.push_str(&line[strip..]);
                    block.text.push('\n');
                    open = Some((c, len, indent_of_fence, block));
                }
            }
        }
        previous = line;
    }
    if let Some((_, _, _, block)) = open {
        panic!("{}: a code block is never closed", block.place);
    }
    (blocks, prose)
}

/// How a Lua block is to be run (`<!-- snippet: ... -->`).
#[derive(Clone, Debug)]
struct Settings {
    computers: Vec<i32>,
    idle: Vec<i32>,
    config: Option<String>,
    timeout: Duration,
    name: Option<String>,
    with: Option<String>,
    ready: Option<String>,
    forever: bool,
}

enum Plan {
    Run(Settings),
    NotRunnable(String),
}

fn ids(value: &str) -> Result<Vec<i32>, String> {
    value
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| format!("bad computer ID {s:?}"))
        })
        .collect()
}

/// The plan of a Lua block from the line before it.
fn plan(before: &str) -> Result<Plan, String> {
    let default = Settings {
        computers: vec![0],
        idle: Vec::new(),
        config: None,
        timeout: DEFAULT_TIMEOUT,
        name: None,
        with: None,
        ready: None,
        forever: false,
    };
    let Some(comment) = before
        .strip_prefix("<!--")
        .and_then(|c| c.strip_suffix("-->"))
        .map(str::trim)
    else {
        return Ok(Plan::Run(default));
    };
    if let Some(reason) = comment.strip_prefix("not runnable:") {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err("`not runnable:` needs a reason".into());
        }
        return Ok(Plan::NotRunnable(reason.to_string()));
    }
    let Some(settings) = comment.strip_prefix("snippet:") else {
        return Ok(Plan::Run(default));
    };
    let mut s = default;
    for item in settings.split(';').map(str::trim).filter(|i| !i.is_empty()) {
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (item, ""),
        };
        match key {
            "computers" => s.computers = ids(value)?,
            "idle" => s.idle = ids(value)?,
            "config" => {
                serde_json::from_str::<serde_json::Value>(value)
                    .map_err(|e| format!("config is not JSON: {e}"))?;
                s.config = Some(value.to_string());
            }
            "timeout" => {
                let secs: f64 = value
                    .parse()
                    .map_err(|_| format!("bad timeout {value:?}"))?;
                s.timeout = Duration::from_secs_f64(secs);
            }
            "name" => s.name = Some(value.to_string()),
            "with" => s.with = Some(value.to_string()),
            "ready" => s.ready = Some(value.to_string()),
            "forever" if value.is_empty() => s.forever = true,
            _ => return Err(format!("unknown snippet setting {item:?}")),
        }
    }
    if s.computers.is_empty() {
        return Err("no computers".into());
    }
    Ok(Plan::Run(s))
}

/// The program a computer runs for `text`: the block as a chunk named
/// `snippet`, in a protected call, then a line saying how it ended.
fn program(text: &str) -> String {
    let mut level = 0;
    while text.contains(&format!("]{}]", "=".repeat(level))) {
        level += 1;
    }
    let eq = "=".repeat(level);
    format!(
        "local chunk, err = load([{eq}[\n{text}]{eq}], \"=snippet\", \"t\", _ENV)\n\
         if not chunk then print(\"{FAILED}\" .. tostring(err)) else\n\
         local ok, e = pcall(chunk)\n\
         if ok then print(\"{DONE}\") else print(\"{FAILED}\" .. tostring(e)) end\n\
         end\n"
    )
}

/// Any run of spaces and tabs as one space.
fn normalized(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The lines a block promises with `--> TEXT` comments.
fn expected_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let at = line.find("--> ")?;
            let before_ok = at == 0 || line[..at].ends_with(char::is_whitespace);
            before_ok.then(|| normalized(&line[at + 4..]))
        })
        .collect()
}

struct Lua<'a> {
    place: &'a str,
    text: &'a str,
    settings: Settings,
}

/// Runs `main` (with its partner, if any) in a fresh host; an error says
/// what went wrong, with the computers' output.
fn run(main: &Lua, partner: Option<&Lua>) -> Result<(), String> {
    let config = main
        .settings
        .config
        .as_deref()
        .or(partner.and_then(|p| p.settings.config.as_deref()));
    let host = TestHost::new("docs-snippet", config);
    let h = host.host();
    let start = |lua: &Lua| -> Result<(), String> {
        for &id in &lua.settings.computers {
            h.start_computer(id, &program(lua.text))
                .map_err(|e| format!("cannot start computer {id}: {e}"))?;
        }
        Ok(())
    };
    let running: Vec<&Lua> = [main].into_iter().chain(partner).collect();
    for lua in &running {
        for &id in &lua.settings.idle {
            h.start_computer(id, "")
                .map_err(|e| format!("cannot start idle computer {id}: {e}"))?;
        }
    }
    if let Some(p) = partner {
        start(p)?;
        if let Some(ready) = &p.settings.ready {
            for &id in &p.settings.computers {
                if h.wait_for_line(id, ready, p.settings.timeout).is_none() {
                    return Err(report(h, p, &[id], &format!("never printed {ready:?}")));
                }
            }
        }
    }
    start(main)?;
    // Wait for every block that ends; a `forever` one must only not fail.
    for lua in &running {
        for &id in &lua.settings.computers {
            let outcome = if lua.settings.forever {
                h.output(id)
                    .into_iter()
                    .find(|l| l.starts_with("@@snippet"))
            } else {
                h.wait_for_line(id, "@@snippet", lua.settings.timeout)
            };
            match outcome {
                Some(line) if line == DONE => {}
                None if lua.settings.forever => {}
                Some(line) => return Err(report(h, lua, &[id], &line)),
                None => {
                    let why = format!("did not end within {:?}", lua.settings.timeout);
                    return Err(report(h, lua, &[id], &why));
                }
            }
        }
    }
    for lua in &running {
        let printed: HashSet<String> = lua
            .settings
            .computers
            .iter()
            .flat_map(|&id| h.output(id))
            .map(|l| normalized(&l))
            .collect();
        for line in expected_lines(lua.text) {
            if !printed.contains(&line) {
                let why = format!("never printed {line:?}");
                return Err(report(h, lua, &lua.settings.computers, &why));
            }
        }
    }
    host.shutdown();
    Ok(())
}

/// `why` a block failed, with the output of `computers`.
fn report(h: &Host, lua: &Lua, computers: &[i32], why: &str) -> String {
    let mut text = format!("{} (computers {computers:?}): {why}", lua.place);
    for &id in computers {
        text += &format!(
            "\n--- output of computer {id} ---\n{}",
            h.output(id).join("\n")
        );
    }
    text
}

#[test]
fn every_lua_example_of_the_docs_runs_or_says_why_not() {
    let mut failures = Vec::new();
    let mut luas = Vec::new();
    let mut not_runnable = Vec::new();
    for path in documents() {
        let file = relative(&path);
        let source = std::fs::read_to_string(&path).unwrap();
        for block in split_blocks(&file, &source).0 {
            let first = block.info.split([',', ' ']).next().unwrap_or("");
            if first != "lua" {
                continue;
            }
            if block.info != "lua" {
                failures.push(format!(
                    "{}: info string {:?}: use ```lua and a `<!-- snippet: … -->` or \
                     `<!-- not runnable: … -->` comment before the block",
                    block.place, block.info
                ));
                continue;
            }
            match plan(&block.before) {
                Ok(Plan::Run(settings)) => luas.push((block, settings)),
                Ok(Plan::NotRunnable(reason)) => not_runnable.push((block.place, reason)),
                Err(e) => failures.push(format!("{}: {e}", block.place)),
            }
        }
    }
    let luas: Vec<Lua> = luas
        .iter()
        .map(|(block, settings)| Lua {
            place: &block.place,
            text: &block.text,
            settings: settings.clone(),
        })
        .collect();
    let by_name: HashMap<&str, &Lua> = luas
        .iter()
        .filter_map(|l| l.settings.name.as_deref().map(|n| (n, l)))
        .collect();
    let partners: HashSet<&str> = luas
        .iter()
        .filter_map(|l| l.settings.with.as_deref())
        .collect();
    let (mut ran, mut as_partner) = (0, 0);
    for lua in &luas {
        let name = lua.settings.name.as_deref();
        if name.is_some_and(|n| partners.contains(n)) {
            continue; // runs with the block that names it
        }
        if lua.settings.forever {
            failures.push(format!(
                "{}: `forever`, but no block runs it `with=`",
                lua.place
            ));
            continue;
        }
        let partner = match lua.settings.with.as_deref() {
            None => None,
            Some(n) => match by_name.get(n) {
                Some(p) => Some(*p),
                None => {
                    failures.push(format!(
                        "{}: `with={n}`, but no block is named so",
                        lua.place
                    ));
                    continue;
                }
            },
        };
        match run(lua, partner) {
            Ok(()) => {
                ran += 1;
                if let Some(p) = partner {
                    as_partner += 1;
                    println!("ran    {} (with {})", lua.place, p.place);
                } else {
                    println!("ran    {}", lua.place);
                }
            }
            Err(e) => failures.push(e),
        }
    }
    for (place, reason) in &not_runnable {
        println!("marked {place}: not runnable: {reason}");
    }
    println!(
        "docs snippets: {} Lua blocks ran ({ran} runs, {as_partner} with a partner block), \
         {} not runnable, {} failures",
        ran + as_partner,
        not_runnable.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
    assert!(ran > 0, "no Lua block found in the docs");
}

#[test]
fn every_json_example_of_the_docs_parses() {
    let mut checked = 0;
    for path in documents() {
        let file = relative(&path);
        let source = std::fs::read_to_string(&path).unwrap();
        for block in split_blocks(&file, &source).0 {
            if block.info == "json" {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&block.text) {
                    panic!("{}: not JSON: {e}\n{}", block.place, block.text);
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "no JSON block found in the docs");
}

/// The code spans of markdown `prose` (CommonMark: a run of N backticks up
/// to the next run of exactly N).
fn code_spans(prose: &str) -> Vec<String> {
    let bytes = prose.as_bytes();
    let run_at = |i: usize| bytes[i..].iter().take_while(|&&b| b == b'`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let n = run_at(i);
        let start = i + n;
        let mut j = start;
        let mut end = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let m = run_at(j);
                if m == n {
                    end = Some(j);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        match end {
            Some(e) => {
                spans.push(prose[start..e].to_string());
                i = e + n;
            }
            None => i = start,
        }
    }
    spans
}

/// Where the documents name the repository's own files.
const REPOSITORY_DIRS: &[&str] = &[
    "src/", "lua/", "ci/", "tests/", "host/", "include/", "fuzz/", "docs/", ".github/", ".ci/",
];

#[test]
fn every_repository_path_the_docs_name_exists() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for path in documents() {
        let file = relative(&path);
        let source = std::fs::read_to_string(&path).unwrap();
        let prose = split_blocks(&file, &source).1;
        for span in code_spans(&prose) {
            let first = span.split_whitespace().next().unwrap_or("");
            let is_path = REPOSITORY_DIRS.iter().any(|d| first.starts_with(d))
                && first
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c));
            // docs/book/ is built by ci/book, not kept in the repository.
            if !is_path || first.starts_with("docs/book") {
                continue;
            }
            checked += 1;
            if !root().join(first).exists() {
                missing.push(format!("{file}: `{first}` does not exist"));
            }
        }
    }
    assert!(missing.is_empty(), "\n{}", missing.join("\n"));
    assert!(checked > 0, "no repository path found in the docs");
}
