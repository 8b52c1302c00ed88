//! The end-to-end test harness: makes sure the test ground (tests/cluster/ground) is up and
//! gives each test a namespace of its own.
