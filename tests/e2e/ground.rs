//! End-to-end checks of the test ground itself, through kube-rs.
