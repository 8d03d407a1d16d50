//! Native tests of the pages and the progress view.
