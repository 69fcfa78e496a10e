//! The Tickstream desktop app: see the library.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tickstream_desktop::run();
}
