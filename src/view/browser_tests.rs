//! The pages mounted in a real DOM (headless Chromium).
