fn main() {
    std::process::exit(mtjsim::cli::main());
}
