//! The names of this process's threads, for tests that check which threads
//! a plugin starts and leaves running. A thread names itself once it runs,
//! so a test that expects a thread waits for its name
//! ([`wait_for_thread_names`]) instead of looking once.

use std::time::{Duration, Instant};

/// The name of every thread of this process ("" for an unnamed thread).
/// Linux: `/proc/self/task/*/comm` (at most 15 bytes); macOS: the Mach
/// thread list; Windows: the Toolhelp thread list and thread descriptions.
pub fn live_thread_names() -> Vec<String> {
    os::thread_names()
}

/// Polls the thread names until `done` holds for them, at most `timeout`.
/// `Ok` with the names that satisfied it, else `Err` with the last names.
pub fn wait_for_thread_names(
    timeout: Duration,
    done: impl Fn(&[String]) -> bool,
) -> Result<Vec<String>, Vec<String>> {
    let deadline = Instant::now() + timeout;
    loop {
        let names = live_thread_names();
        if done(&names) {
            return Ok(names);
        }
        if Instant::now() >= deadline {
            return Err(names);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(target_os = "linux")]
mod os {
    pub fn thread_names() -> Vec<String> {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return Vec::new();
        };
        tasks
            .flatten()
            // A thread that ended since the listing has no comm any more.
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .map(|comm| comm.trim_end_matches('\n').to_string())
            .collect()
    }
}

#[cfg(target_os = "macos")]
mod os {
    use std::ffi::CStr;

    extern "C" {
        // What <mach/mach_init.h>'s mach_task_self() reads.
        static mach_task_self_: libc::mach_port_t;
        fn mach_port_deallocate(
            task: libc::mach_port_t,
            name: libc::mach_port_t,
        ) -> libc::kern_return_t;
    }

    pub fn thread_names() -> Vec<String> {
        let mut list: libc::thread_act_array_t = std::ptr::null_mut();
        let mut count: libc::mach_msg_type_number_t = 0;
        // SAFETY: mach_task_self_ is set before any Rust code runs; on
        // success task_threads hands us `count` thread ports in a buffer we
        // own (released below).
        let task = unsafe { mach_task_self_ };
        if unsafe { libc::task_threads(task, &mut list, &mut count) } != libc::KERN_SUCCESS {
            return Vec::new();
        }
        let names = (0..count as usize)
            .map(|i| {
                // SAFETY: `i < count`, within the buffer task_threads filled.
                let thread = unsafe { *list.add(i) };
                let name = thread_name(thread);
                // SAFETY: releases the send right task_threads gave us.
                unsafe { mach_port_deallocate(task, thread) };
                name
            })
            .collect();
        // SAFETY: the buffer of `count` ports allocated by task_threads.
        unsafe {
            libc::vm_deallocate(
                task,
                list as libc::vm_address_t,
                count as usize * std::mem::size_of::<libc::thread_act_t>(),
            )
        };
        names
    }

    fn thread_name(thread: libc::thread_act_t) -> String {
        // SAFETY: thread_extended_info is plain data; thread_info writes at
        // most `info_count` integers into it.
        let mut info: libc::thread_extended_info = unsafe { std::mem::zeroed() };
        let mut info_count = libc::THREAD_EXTENDED_INFO_COUNT;
        let rc = unsafe {
            libc::thread_info(
                thread,
                libc::THREAD_EXTENDED_INFO as libc::thread_flavor_t,
                (&mut info as *mut libc::thread_extended_info).cast(),
                &mut info_count,
            )
        };
        if rc != libc::KERN_SUCCESS {
            return String::new();
        }
        let bytes: Vec<u8> = info.pth_name.iter().map(|&c| c as u8).collect();
        CStr::from_bytes_until_nul(&bytes)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned())
    }
}

#[cfg(windows)]
mod os {
    use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::System::Diagnostics::ToolHelp::{
        CreateToolhelp32Snapshot, Thread32First, Thread32Next, TH32CS_SNAPTHREAD, THREADENTRY32,
    };
    use windows_sys::Win32::System::Threading::{
        GetCurrentProcessId, GetThreadDescription, OpenThread, THREAD_QUERY_LIMITED_INFORMATION,
    };

    pub fn thread_names() -> Vec<String> {
        // SAFETY: a snapshot of every thread of the system, closed below.
        let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0) };
        if snapshot == INVALID_HANDLE_VALUE {
            return Vec::new();
        }
        // SAFETY: THREADENTRY32 is plain data; dwSize set as required.
        let mut entry: THREADENTRY32 = unsafe { std::mem::zeroed() };
        entry.dwSize = std::mem::size_of::<THREADENTRY32>() as u32;
        // SAFETY: no arguments.
        let me = unsafe { GetCurrentProcessId() };
        let mut names = Vec::new();
        // SAFETY: `snapshot` is open and `entry` is a valid THREADENTRY32.
        let mut more = unsafe { Thread32First(snapshot, &mut entry) } != 0;
        while more {
            if entry.th32OwnerProcessID == me {
                names.push(thread_name(entry.th32ThreadID));
            }
            // SAFETY: as for Thread32First.
            more = unsafe { Thread32Next(snapshot, &mut entry) } != 0;
        }
        // SAFETY: closes the snapshot opened above, once.
        unsafe { CloseHandle(snapshot) };
        names
    }

    fn thread_name(id: u32) -> String {
        // SAFETY: opens a handle to a thread of this process (NULL if it
        // ended meanwhile), closed below.
        let handle = unsafe { OpenThread(THREAD_QUERY_LIMITED_INFORMATION, 0, id) };
        if handle.is_null() {
            return String::new();
        }
        let mut description: *mut u16 = std::ptr::null_mut();
        let mut name = String::new();
        // SAFETY: on success `description` is a NUL-terminated UTF-16
        // string allocated for us, released with LocalFree.
        if unsafe { GetThreadDescription(handle, &mut description) } >= 0 && !description.is_null()
        {
            // SAFETY: reads up to the terminating NUL of that string.
            let len = (0..)
                .take_while(|&i| unsafe { *description.add(i) } != 0)
                .count();
            // SAFETY: `len` units before the NUL are initialised.
            let units = unsafe { std::slice::from_raw_parts(description, len) };
            name = String::from_utf16_lossy(units);
            // SAFETY: frees the string GetThreadDescription allocated.
            unsafe { LocalFree(description.cast()) };
        }
        // SAFETY: closes the handle opened above, once.
        unsafe { CloseHandle(handle) };
        name
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
mod os {
    /// Not implemented on this system: no names, so a test that waits for
    /// a thread fails rather than passes.
    pub fn thread_names() -> Vec<String> {
        Vec::new()
    }
}
