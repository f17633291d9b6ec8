// RunRecord
