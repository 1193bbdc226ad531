"""Reports written as files: the security register's monthly report (PDF, XLSX)."""
