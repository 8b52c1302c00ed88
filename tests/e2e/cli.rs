//! End-to-end checks of the kubectl-devloop binary.
