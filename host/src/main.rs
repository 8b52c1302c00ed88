//! `kubectl-devloop`: the binary kubectl finds on PATH for `kubectl devloop ...`.
fn main() -> std::process::ExitCode {
    devloop::cli::main()
}
