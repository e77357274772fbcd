// segmentation tests
