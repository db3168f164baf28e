// Embedded migrations must be rebuilt when a migration file changes (diesel_migrations docs).
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
