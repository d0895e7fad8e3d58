//! Builds the C++ half of the host adapter with the platform's C++ compiler.
fn main() {
    println!("cargo:rerun-if-changed=src/host_adapter/shim.cpp");
    println!("cargo:rerun-if-changed=include/craftos_pc_abi.hpp");
    println!("cargo:rerun-if-changed=include/phoenix_shim.h");
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .file("src/host_adapter/shim.cpp")
        .include("include")
        .warnings(true)
        .extra_warnings(true)
        .compile("phoenix_shim");
}
