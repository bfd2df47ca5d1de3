"""Deployment limits of the reference study, as named constants with units and sources."""

__all__ = ["REFERENCE_MAX_LATENCY_S", "REFERENCE_MAX_AREA_UM2", "REFERENCE_MAX_TOPS", "REFERENCE_LIMITS"]

# CATransformers code (facebookresearch/CATransformers @ ad8c859), docs/reference-facts.md section 1.2:
# 50 ms "interactive" latency; the area of 4 clusters of 256x16 PEs with 1 MB L2 and 8 MB GLB;
# 20 x 1.024 TOPS (at most 16,384 MACs at 625 MHz).
REFERENCE_MAX_LATENCY_S = 0.05
REFERENCE_MAX_AREA_UM2 = 31_990_347.0
REFERENCE_MAX_TOPS = 20.48

REFERENCE_LIMITS = {
    "latency_s": REFERENCE_MAX_LATENCY_S,
    "area_um2": REFERENCE_MAX_AREA_UM2,
    "tops": REFERENCE_MAX_TOPS,
}
