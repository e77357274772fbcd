// scores: being written
