"""ClusterLab's window: views over one session model; no maths here."""
