"""Insights and reports: the network in numbers and charts, and a project's report."""
