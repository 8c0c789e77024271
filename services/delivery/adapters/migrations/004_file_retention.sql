-- Dossier files are deleted a while after acknowledgement (PLUME_DELIVERY_FILE_RETENTION_DAYS);
-- the manifest and counts stay, and say when the files went.
ALTER TABLE dossiers ADD COLUMN files_deleted_at timestamptz;
CREATE INDEX dossiers_files_kept ON dossiers (acknowledged_at)
    WHERE status = 'acknowledged' AND files_deleted_at IS NULL;
